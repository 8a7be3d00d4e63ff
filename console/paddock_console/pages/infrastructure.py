"""The Infrastructure page: hosts, their containers and graphs."""

from __future__ import annotations

from starlette.responses import RedirectResponse

from paddock_console import model
from paddock_console.site import guarded


@guarded("view")
def home(site, request, api):
    return RedirectResponse("/infrastructure", status_code=303)


@guarded("view")
def infrastructure(site, request, api):
    nodes, services = api.nodes(), api.services()
    tasks = api.tasks(filters={"desired-state": "running"})
    hosts = model.hosts_view(nodes, tasks, services)
    for host in hosts:
        host["graphs"] = site.graphs.view(host["hostname"])
    return site.page(request, "infrastructure.html", hosts=hosts, graphs_on=bool(site.config.agent_port))


def routes(site):
    return [site.route("/", home), site.route("/infrastructure", infrastructure)]
