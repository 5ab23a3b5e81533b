"""The leadership dashboard (Django session login, the same scoping as the API)."""

app_name = "dashboard"
urlpatterns: list = []
