"""The catalog's pages: the entries, an entry's questions as a form, and its launch."""

from __future__ import annotations

from starlette.responses import PlainTextResponse, RedirectResponse, Response

from paddock_console import catalog as catalogs
from paddock_console.site import guarded


@guarded("view")
def catalog_list(site, request, api):
    return site.page(request, "catalog.html", entries=site.catalog.entries(), running=catalogs.apps(api.services()))


def entry_page(site, request, api, found, folder, stack, given=None, errors=None, status=200, services=None):
    described = next((e for e in site.catalog.entries() if e["entry"] == found.name), None)
    folder, _version, questions, problem = site.catalog.questions(found, folder)
    launched = catalogs.apps(api.services() if services is None else services).get(found.name, {})
    running = [{"stack": name, "version": version, "managed": name in site.config.managed,
                "gitops": catalogs.gitops_entry(name, found.name, folder or "")}
               for name, version in sorted(launched.items())]
    response = site.page(request, "catalog_entry.html", entry=described, folder=folder, stack=stack,
                         questions=None if problem else questions, problem=problem, running=running,
                         given=given or {}, errors=errors or [])
    response.status_code = status
    return response


@guarded("view")
def catalog_entry(site, request, api):
    found = site.catalog.entry(request.path_params["entry"])
    if found is None:
        return PlainTextResponse("no such catalog entry", status_code=404)
    stack = str(request.query_params.get("stack") or found.name.lower())
    return entry_page(site, request, api, found, request.query_params.get("version"), stack)


@guarded("view")
def catalog_icon(site, request, api):
    icon = site.catalog.icon(request.path_params["entry"])
    if icon is None:
        return PlainTextResponse("no icon", status_code=404)
    with open(icon[0], "rb") as handle:
        # An SVG opened on its own is a document of this origin: nothing in it may run.
        return Response(handle.read(), media_type=icon[1], headers={
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox"})


def _launch_errors(site, request, api, stack, found, folder, answers, services):
    """(rendered, errors): the app checked and rendered by the playbook's code, the images it
    runs looked for in the registry, and deployed with the user's role."""
    rendered, errors, _warnings = site.catalog.render(stack, found.name, folder, answers, services)
    if not errors:
        missing = catalogs.images_missing(api, rendered["stack"].compose)
        errors = [f"stack {stack}: the registry does not serve {image}; playbooks/catalog.yml builds an "
                  "on_demand image of paddock_images when it launches the app, and site.yml builds them all "
                  "with paddock_console_catalog_images: true" for image in missing]
    if not errors:
        refused = site.cli.deploy(request.session["role"], rendered, request.session["user"])
        if refused:
            errors = [f"stack {stack}: refused: {refused}"]
    return rendered, errors


@guarded("launch")
def catalog_launch(site, request, api):
    found = site.catalog.entry(request.path_params["entry"])
    if found is None:
        return PlainTextResponse("no such catalog entry", status_code=404)
    form, user = request.state.form, request.session["user"]
    stack = str(form.get("stack", "")).strip()
    folder, _version, questions, problem = site.catalog.questions(found, str(form.get("version", "")))
    if problem:
        return entry_page(site, request, api, found, None, stack, errors=[problem], status=400)
    answers = catalogs.answers_from_form(questions, form)
    # Shown again with the form; a password never is.
    given = {q["variable"]: answers[q["variable"]] for q in questions
             if q.get("type") != "password" and q.get("variable") in answers}
    services = api.services()
    rendered, errors = _launch_errors(site, request, api, stack, found, folder, answers, services)
    what = f"{found.name} {folder}"
    if errors:
        site.actions.record(user, "launch", f"{stack} ({what})", f"refused: {len(errors)} problem(s)",
                            **site.origin(request))
        return entry_page(site, request, api, found, folder, stack, given=given, errors=errors, status=400,
                          services=services)
    catalogs.remove_unused(api, rendered["stack"])
    detail = rendered["upgrade"] or f"launched {what} ({rendered['document']['catalog']['version']})"
    site.actions.record(user, "launch", stack, detail, **site.origin(request))
    request.session["notice"] = (f"{detail}. To keep it in Git, add it to paddock_stacks: "
                                 f"{catalogs.gitops_entry(stack, found.name, folder)}")
    return RedirectResponse(f"/stacks#stack-{stack}", status_code=303)


def routes(site):
    return [site.route("/catalog", catalog_list), site.route("/catalog/{entry}", catalog_entry),
            site.route("/catalog/{entry}", catalog_launch, ("POST",)),
            site.route("/catalog/{entry}/icon", catalog_icon)]
