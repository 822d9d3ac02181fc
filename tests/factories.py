"""Factories for the domain model, with traits (factory_boy)."""

from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from harmonie.accounts.models import Role, User
from harmonie.marking.models import Batch, Script
from harmonie.marking.rules import final_mark_compute
from harmonie.referential.models import (
    Academy,
    Candidate,
    ClassGroup,
    Department,
    Exam,
    ExamKind,
    ExamSession,
    Jury,
    Part,
    Qualification,
    Registration,
    School,
    Subject,
)

PASSWORD = "harmonie2026"


class AcademyFactory(DjangoModelFactory):
    class Meta:
        model = Academy
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"ACAD-{n}")
    label = factory.Sequence(lambda n: f"Académie {n}")


class DepartmentFactory(DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"{100 + n:03d}")
    label = factory.Sequence(lambda n: f"Département {n}")
    academy = factory.SubFactory(AcademyFactory)


class SchoolFactory(DjangoModelFactory):
    class Meta:
        model = School
        django_get_or_create = ("uai",)

    uai = factory.Sequence(lambda n: f"0{n:06d}Z"[:8])
    label = factory.Sequence(lambda n: f"Lycée {n}")
    department = factory.SubFactory(DepartmentFactory)


class ClassGroupFactory(DjangoModelFactory):
    class Meta:
        model = ClassGroup
        django_get_or_create = ("school", "code")

    school = factory.SubFactory(SchoolFactory)
    code = factory.Sequence(lambda n: f"1STMG{n}")


class QualificationFactory(DjangoModelFactory):
    class Meta:
        model = Qualification
        django_get_or_create = ("code",)

    code = "STMG"
    label = "Sciences et technologies du management et de la gestion"


class JuryFactory(DjangoModelFactory):
    class Meta:
        model = Jury
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"J-{n:03d}")
    academy = factory.SubFactory(AcademyFactory)


class ExamSessionFactory(DjangoModelFactory):
    class Meta:
        model = ExamSession
        django_get_or_create = ("code",)

    code = "BAC2026"
    label = "Baccalauréat 2026"


class ExamFactory(DjangoModelFactory):
    """A marked exam on 20 with scheme P1 (Q1 /4, Q2 /6) and P2 (/10)."""

    class Meta:
        model = Exam
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    session = factory.SubFactory(ExamSessionFactory)
    code = factory.Sequence(lambda n: f"EXAM-{n}")
    label = "Écrit de français, toutes séries"
    kind = ExamKind.MARKED
    max_mark = Decimal(20)
    step = Decimal("0.5")
    special_marks = factory.LazyFunction(lambda: ["AB", "CB"])

    class Params:
        harmonisation_only = factory.Trait(kind=ExamKind.HARMONISATION_ONLY, label="Philosophie")

    @factory.post_generation
    def scheme(self, create: bool, extracted: object, **kwargs: object) -> None:
        if not create or self.kind != ExamKind.MARKED or self.parts.exists():
            return
        p1 = Part.objects.create(
            exam=self, code="P1", label="Commentaire", max_mark=10, position=1, is_leaf=False
        )
        Part.objects.create(exam=self, parent=p1, code="Q1", label="Q1", max_mark=4, position=2)
        Part.objects.create(exam=self, parent=p1, code="Q2", label="Q2", max_mark=6, position=3)
        Part.objects.create(exam=self, code="P2", label="Dissertation", max_mark=10, position=4)
        Subject.objects.get_or_create(exam=self, code="SUJET-A")
        Subject.objects.get_or_create(exam=self, code="SUJET-B")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Sabrina"
    last_name = factory.Sequence(lambda n: f"Antonioli{n}")
    role = Role.ACADEMIC_COORDINATOR
    academy = factory.SubFactory(AcademyFactory)
    password = factory.django.Password(PASSWORD)

    class Params:
        coordinator = factory.Trait(role=Role.ACADEMIC_COORDINATOR)
        member = factory.Trait(role=Role.HARMONISATION_MEMBER)
        exam_officer = factory.Trait(role=Role.EXAM_OFFICER)
        grader = factory.Trait(role=Role.GRADER)
        school_head = factory.Trait(
            role=Role.SCHOOL, school=factory.SubFactory(SchoolFactory), academy=None
        )

    @factory.post_generation
    def missions(self, create: bool, extracted: list[Exam] | None, **kwargs: object) -> None:
        if create and extracted:
            self.missions.set(extracted)


class CandidateFactory(DjangoModelFactory):
    class Meta:
        model = Candidate

    number = factory.Sequence(lambda n: f"{9000000000 + n}")
    school = factory.SubFactory(SchoolFactory)
    class_group = factory.LazyAttribute(lambda o: ClassGroupFactory(school=o.school, code="1STMG1"))
    qualification = factory.SubFactory(QualificationFactory)
    jury = factory.LazyAttribute(lambda o: JuryFactory(academy=o.school.department.academy))
    fraud = False


class RegistrationFactory(DjangoModelFactory):
    class Meta:
        model = Registration

    candidate = factory.SubFactory(CandidateFactory)
    exam = factory.SubFactory(ExamFactory)
    academy = factory.LazyAttribute(lambda o: o.candidate.school.department.academy)
    attendance = "present"


class BatchFactory(DjangoModelFactory):
    class Meta:
        model = Batch
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"L-{n:06d}")
    exam = factory.SubFactory(ExamFactory)
    academy = factory.SubFactory(AcademyFactory)
    grader = factory.LazyAttribute(lambda o: UserFactory(grader=True, academy=o.academy))
    locked = True

    class Params:
        unlocked = factory.Trait(locked=False)


def _marks_total(marks: dict) -> Decimal:
    return sum((Decimal(str(v)) for v in marks.values()), Decimal(0))


class ScriptFactory(DjangoModelFactory):
    """A script whose filter columns are copied from its candidate and batch.

    `ScriptFactory(batch=b, marks={"Q1": 3, "Q2": 4.5, "P2": 7})`; `blank=True` gives a CB.
    The candidate's registration is created with it.
    """

    class Meta:
        model = Script
        skip_postgeneration_save = True

    public_id = factory.Sequence(lambda n: f"S-{n:06d}")
    batch = factory.SubFactory(BatchFactory)
    exam = factory.LazyAttribute(lambda o: o.batch.exam if o.batch else ExamFactory())
    candidate = factory.LazyAttribute(
        lambda o: CandidateFactory(
            school=SchoolFactory(department=DepartmentFactory(academy=o.batch.academy))
            if o.batch
            else SchoolFactory()
        )
    )
    subject = factory.LazyAttribute(lambda o: o.exam.subjects.order_by("code").first())
    academy = factory.LazyAttribute(lambda o: o.candidate.school.department.academy)
    department = factory.LazyAttribute(lambda o: o.candidate.school.department)
    school = factory.LazyAttribute(lambda o: o.candidate.school)
    class_group = factory.LazyAttribute(lambda o: o.candidate.class_group)
    qualification = factory.LazyAttribute(lambda o: o.candidate.qualification)
    jury = factory.LazyAttribute(lambda o: o.candidate.jury)
    grader = factory.LazyAttribute(lambda o: o.batch.grader if o.batch else None)
    locked = factory.LazyAttribute(lambda o: o.batch.locked if o.batch else True)
    marks = factory.LazyAttribute(
        lambda o: (
            {"Q1": 3, "Q2": 4.5, "P2": 7} if o.exam.kind == ExamKind.MARKED else {"global": 12.5}
        )
    )
    special_mark = None
    initial_mark = factory.LazyAttribute(
        lambda o: None if o.special_mark else _marks_total(o.marks)
    )
    delta = Decimal(0)
    final_mark = factory.LazyAttribute(
        lambda o: final_mark_compute(initial=o.initial_mark, delta=o.delta, maximum=o.exam.max_mark)
    )
    pages = factory.LazyFunction(list)

    class Params:
        blank = factory.Trait(special_mark="CB", marks=factory.LazyFunction(dict))

    @factory.post_generation
    def registration(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            Registration.objects.get_or_create(
                candidate=self.candidate,
                exam=self.exam,
                defaults={"academy": self.academy, "attendance": "present"},
            )
