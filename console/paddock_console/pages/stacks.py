"""The Stacks page, a service's page and logs, and what a user does to a service or a stack:
scale, upgrade, roll back, remove."""

from __future__ import annotations

import threading

import docker
from starlette.background import BackgroundTask
from starlette.responses import PlainTextResponse, RedirectResponse, StreamingResponse

from paddock_console import catalog as catalogs
from paddock_console import model
from paddock_console.site import guarded
from paddock_console.streams import closer, pump


@guarded("view")
def stacks(site, request, api):
    services, nodes = api.services(), api.nodes()
    tasks = api.tasks(filters={"desired-state": "running"})
    return site.page(request, "stacks.html", stacks=model.stacks_view(services, tasks, nodes, site.config.managed))


@guarded("view")
def service(site, request, api):
    found = api.inspect_service(request.path_params["id"])
    names = model.node_names(api.nodes())
    tasks = api.tasks(filters={"service": found["ID"]})
    row = model.service_row(found, tasks, names)
    stack = (found["Spec"].get("Labels") or {}).get(model.STACK_LABEL)
    rules = None
    if row["lb"]:
        rules = model.lb_rules(found, api.services(), api.tasks(filters={"desired-state": "running"}), names)
    return site.page(request, "service.html", service=row, tasks=model.task_rows(tasks, names), stack=stack,
                     managed=stack in site.config.managed, rules=rules)


@guarded("logs")
def follow(site, request, api):
    """The service's logs as they are written: its last 200 lines (or those after ``since``, a
    Unix time, when a page reconnects), then each new one, until the page goes. The engine's
    stream is read by a thread and closed when the page goes, so that a quiet service holds no
    thread for a reader that left. At most ``log_streams`` at once per console; past that, 503,
    and the page fetches the logs every 3 s instead."""
    found = api.inspect_service(request.path_params["id"])
    if not site.streams.acquire(blocking=False):
        return PlainTextResponse("too many log streams; fetch /logs instead", status_code=503)
    try:
        since = float(request.query_params.get("since", "0") or 0)
    except ValueError:
        since = 0
    since = since if 0 < since < 1e11 else 0  # nan, inf and nonsense read as "from the tail"
    params = {"follow": True, "stdout": True, "stderr": True, "timestamps": True,
              "tail": "all" if since else "200", "since": since or 0}
    tty = found["Spec"]["TaskTemplate"]["ContainerSpec"].get("TTY", False)
    try:
        # docker-py's service_logs gives a generator with no way to close its connection from
        # another thread; the same calls it makes, kept apart so that the response can be closed.
        response = api._get(api._url("/services/{0}/logs", found["ID"]), params=params, stream=True)  # noqa: SLF001
        api._raise_for_status(response)  # noqa: SLF001
        lines = api._get_result_tty(True, response, tty)  # noqa: SLF001
    except BaseException:
        site.streams.release()
        raise
    stop = threading.Event()
    close = closer(response, site.streams, stop)
    return StreamingResponse(pump(lines, close, stop), media_type="text/plain; charset=utf-8",
                             background=BackgroundTask(close))


@guarded("logs")
def logs(site, request, api):
    found = api.inspect_service(request.path_params["id"])
    lines = api.service_logs(found["ID"], stdout=True, stderr=True, timestamps=True, tail=200)
    text = b"".join(lines).decode("utf-8", "replace") if not isinstance(lines, bytes) else lines.decode()
    return PlainTextResponse(text)


def _update(site, request, api, what, change):
    """Change the service's spec with ``change`` (which says what it did) and update it, as the
    user's role; recorded either way."""
    found = api.inspect_service(request.path_params["id"])
    name, spec = found["Spec"]["Name"], found["Spec"]
    try:
        detail = change(spec)
    except ValueError as exc:
        request.session["notice"] = f"{name}: {exc}"
        return RedirectResponse(f"/services/{found['ID']}", status_code=303)
    try:
        api.update_service(found["ID"], found["Version"]["Index"], task_template=spec["TaskTemplate"],
                           name=name, labels=spec.get("Labels"), mode=spec.get("Mode"),
                           update_config=spec.get("UpdateConfig"), rollback_config=spec.get("RollbackConfig"),
                           endpoint_spec=spec.get("EndpointSpec"), fetch_current_spec=False)
    except docker.errors.APIError as exc:
        site.actions.record(request.session["user"], what, name, f"refused: {exc.explanation or exc}",
                            **site.origin(request))
        raise
    site.actions.record(request.session["user"], what, name, detail, **site.origin(request))
    request.session["notice"] = f"{name}: {detail}"
    return RedirectResponse(site.back(request, "/stacks"), status_code=303)


@guarded("scale")
def scale(site, request, api):
    def change(spec):
        if "Replicated" not in spec.get("Mode", {}):
            raise ValueError("a global service runs one task per node and has no scale")
        before = spec["Mode"]["Replicated"].get("Replicas", 0)
        after = model.scaled(before, 1 if request.state.form.get("delta") == "+1" else -1)
        spec["Mode"]["Replicated"]["Replicas"] = after
        return f"scaled from {before} to {after}"
    return _update(site, request, api, "scale", change)


@guarded("update")
def upgrade(site, request, api):
    tag = str(request.state.form.get("tag", "")).strip()

    def change(spec):
        problem = model.tag_problem(tag)
        if problem:
            raise ValueError(problem)
        container = spec["TaskTemplate"]["ContainerSpec"]
        before = container["Image"].split("@", 1)[0]
        container["Image"] = model.image_with_tag(before, tag)
        return f"upgraded from {before} to {container['Image']}"
    return _update(site, request, api, "upgrade", change)


@guarded("update")
def rollback(site, request, api):
    previous = api.inspect_service(request.path_params["id"]).get("PreviousSpec")

    def change(spec):
        if not previous:
            raise ValueError("nothing to roll back to")
        image = spec["TaskTemplate"]["ContainerSpec"]["Image"].split("@", 1)[0]
        spec.clear()
        spec.update(previous)
        return f"rolled back from {image} to {previous['TaskTemplate']['ContainerSpec']['Image'].split('@', 1)[0]}"
    return _update(site, request, api, "rollback", change)


@guarded("remove")
def stack_remove(site, request, api):
    name, user = request.path_params["name"], request.session["user"]
    if name in site.config.managed or name == "paddock-console":
        request.session["notice"] = (f"{name} is deployed by the inventory; remove it there "
                                     "(state: absent in paddock_stacks)")
        return RedirectResponse("/stacks", status_code=303)
    # A stack's name comes from a label any member may write: only a name a stack may have
    # reaches the CLI (never one that reads as an option).
    if not catalogs.STACK_NAME.match(name) or catalogs.running_labels(api.services(), name) is None:
        request.session["notice"] = f"no stack named {name} runs"
        return RedirectResponse("/stacks", status_code=303)
    refused = site.cli.remove(request.session["role"], name, user)
    site.actions.record(user, "remove", name, f"refused: {refused}" if refused else "removed", **site.origin(request))
    request.session["notice"] = f"{name}: refused: {refused}" if refused else f"{name}: removed"
    return RedirectResponse("/stacks", status_code=303)


def routes(site):
    return [site.route("/stacks", stacks), site.route("/services/{id}", service),
            site.route("/services/{id}/logs", logs), site.route("/services/{id}/logs/follow", follow),
            site.route("/services/{id}/scale", scale, ("POST",)),
            site.route("/services/{id}/upgrade", upgrade, ("POST",)),
            site.route("/services/{id}/rollback", rollback, ("POST",)),
            site.route("/stacks/{name}/remove", stack_remove, ("POST",))]
