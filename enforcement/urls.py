from django.urls import path

from enforcement import views

app_name = "enforcement"

urlpatterns = [
    path("verify/<str:code>/", views.verify, name="verify"),
    path("objections/", views.objection, name="objection"),
]
