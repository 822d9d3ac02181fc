from django.core.management.base import BaseCommand, CommandParser

from harmonie.accounts.models import Role, User

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
        self.stdout.write(f"\nComptes de démonstration ({academy}), mot de passe : {DEMO_PASSWORD}")
        for user in users:
            role = Role(user.role).label if user.role else "—"
            self.stdout.write(f"  {user.username:<28} {role}")
        self.stdout.write("")
