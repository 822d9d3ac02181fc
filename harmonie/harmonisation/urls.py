from django.urls import path

from harmonie.harmonisation import views

app_name = "harmonisation"

urlpatterns = [
    path("<str:exam>/", views.editor, name="editor"),
    path("<str:exam>/filtres/", views.scenario_filters, name="filters"),
    path("<str:exam>/population/", views.population, name="population"),
    path("<str:exam>/simulation/", views.simulate, name="simulate"),
    path("<str:exam>/execution/", views.execute, name="execute"),
    path("<str:exam>/comparaison/", views.compare, name="compare"),
    path("<str:exam>/historique/<int:harmonisation>/annulation/", views.undo, name="undo"),
    path("<str:exam>/historique/", views.history, name="history"),
    path("<str:exam>/conformite/", views.conformity, name="conformity"),
]
