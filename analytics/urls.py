"""The leadership dashboard (Django session login, the same scoping as the API)."""

from django.urls import path

from analytics import views

app_name = "dashboard"
urlpatterns = [
    path("", views.dashboard, name="home"),
    path("indicators/", views.indicators_page, name="indicators"),
    path("login/", views.DashboardLoginView.as_view(), name="login"),
    path("logout/", views.DashboardLogoutView.as_view(), name="logout"),
]
