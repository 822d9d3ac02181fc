from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Count, Q

from harmonie.accounts.models import Role, User
from harmonie.referential.models import School

DEMO_PASSWORD = "harmonie2026"  # noqa: S105 (demo data only, printed on purpose)


class Command(BaseCommand):
    help = "Affiche les comptes de démonstration (générés par generate_session)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--academy", default="NANCY-METZ")

    def handle(self, *args: object, academy: str, **options: object) -> None:
        users = [
            user
            for user in User.objects.filter(academy__code=academy)
            .union(User.objects.filter(school__department__academy__code=academy))
            .order_by("role", "username")
            if user.has_usable_password()
        ]
        # A school account says which school, and its fraud cases (R-VAL-8) to look at.
        schools = {
            school.pk: school
            for school in School.objects.filter(
                pk__in=[user.school_id for user in users if user.school_id]
            ).annotate(frauds=Count("candidates", filter=Q(candidates__fraud=True)))
        }
        self.stdout.write(f"\nComptes de démonstration ({academy}), mot de passe : {DEMO_PASSWORD}")
        for user in users:
            role = Role(user.role).label if user.role else "—"
            line = f"  {user.username:<28} {role}"
            school = schools.get(user.school_id) if user.school_id else None
            if school is not None:
                line += f" — {school.label}"
                if school.frauds:
                    line += f" ({school.frauds} cas de fraude)"
            self.stdout.write(line)
        self.stdout.write("")
