"""Small template helpers shared by every app's templates."""

from django import forms, template
from django.forms.boundfield import BoundField
from django.utils.safestring import SafeString

register = template.Library()

SELECT_WIDGETS = (forms.Select, forms.SelectMultiple)


@register.filter
def add_class(field: BoundField, css: str) -> SafeString:
    """Render a bound field with extra CSS classes.

    Selects get Bootstrap's form-select instead of form-control.
    """
    widget = field.field.widget
    if isinstance(widget, SELECT_WIDGETS) and "form-control" in css:
        css = css.replace("form-control", "form-select")
    existing = widget.attrs.get("class", "")
    return field.as_widget(attrs={"class": f"{existing} {css}".strip()})


@register.filter
def is_checkbox(field: BoundField) -> bool:
    return isinstance(field.field.widget, forms.CheckboxInput)


@register.filter
def is_multiple_checkbox(field: BoundField) -> bool:
    return isinstance(field.field.widget, forms.CheckboxSelectMultiple | forms.RadioSelect)
