"""Where `collectstatic` and the development server find static files."""

from django.apps import apps
from django.contrib.staticfiles.finders import AppDirectoriesFinder


class AppStaticFinder(AppDirectoriesFinder):
    """The installed apps' static files, less smartmin's.

    TracPro overrides smartmin's templates with Bootstrap 5 ones, so its Bootstrap 3
    and jQuery files are never used; and its CSS names source maps it does not ship,
    which makes the production storage (hashed names) refuse to collect them.
    """

    def __init__(self, app_names: list[str] | None = None, *args, **kwargs) -> None:
        if app_names is None:
            app_names = [c.name for c in apps.get_app_configs() if c.name != "smartmin"]
        super().__init__(app_names, *args, **kwargs)
