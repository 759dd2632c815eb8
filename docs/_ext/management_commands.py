"""`{management-command} name`: a command's description and options, from Django.

The reference of the management commands is written by the commands themselves
(their `help` and their arguments), so it cannot drift from them.
"""

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

import django
from django.core.management import get_commands, load_command_class


class ManagementCommand(SphinxDirective):
    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        app = get_commands().get(name)
        if app is None:
            raise self.error(f"no management command named {name!r}")
        command = load_command_class(app, name)
        usage = command.create_parser("manage.py", name).format_help()
        return [
            nodes.paragraph(text=str(command.help)),
            nodes.literal_block(usage, usage, language="text"),
        ]


def setup(app: Sphinx) -> dict[str, object]:
    django.setup()
    app.add_directive("management-command", ManagementCommand)
    return {"parallel_read_safe": True, "version": "1"}
