"""Shared by the benchmarks that fill their database in SQL (mass harmonisation and
statistics): the marked exam they measure, with its scheme and qualifications."""


def marked_exam_create(session):
    """FRA-ECRIT on /20 by 0.5 (AB, CB), scheme P1 (Q1 /4, Q2 /6) + P2 /10, one subject,
    and 9 qualifications: (exam, subject, qualifications)."""
    from decimal import Decimal

    from harmonie.referential.models import Exam, Part, Qualification, Subject

    qualifications = Qualification.objects.bulk_create(
        Qualification(code=f"Q{i}", label=f"Qualification {i}") for i in range(9)
    )
    exam = Exam.objects.create(
        session=session,
        code="FRA-ECRIT",
        label="Écrit de français",
        kind="marked",
        max_mark=Decimal(20),
        step=Decimal("0.5"),
        special_marks=["AB", "CB"],
    )
    p1 = Part.objects.create(
        exam=exam, code="P1", label="Commentaire", max_mark=10, position=1, is_leaf=False
    )
    Part.objects.create(exam=exam, parent=p1, code="Q1", max_mark=4, position=2)
    Part.objects.create(exam=exam, parent=p1, code="Q2", max_mark=6, position=3)
    Part.objects.create(exam=exam, code="P2", max_mark=10, position=4)
    subject = Subject.objects.create(exam=exam, code="SUJET-A")
    return exam, subject, qualifications
