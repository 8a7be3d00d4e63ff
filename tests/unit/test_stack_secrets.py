"""A catalog app's passwords as Swarm secrets: which variables move, and what the service keeps."""

from ansible_collections.paddock.platform.plugins.module_utils._stack_secrets import digest, image_name, to_secrets

PASSWORD, ROOT = "pa$$word-of-the-user", "root-password-1234"


def compose():
    return {"version": "3.8", "services": {
        "mariadb": {"image": "10.3.0.4:5000/paddock/mariadb:10.11",
                    "environment": {"MARIADB_ROOT_PASSWORD": ROOT, "MARIADB_PASSWORD": PASSWORD.replace("$", "$$"),
                                    "MARIADB_USER": "blog"}},
        "wordpress": {"image": "wordpress:6.4-apache",
                      "environment": ["WORDPRESS_DB_PASSWORD=" + PASSWORD, "WORDPRESS_DB_USER=blog"]},
        "tool": {"image": "busybox", "environment": {"PASSWORD": PASSWORD}}}}


def test_passwords_leave_the_environment_of_images_that_read_them_from_a_file():
    out = compose()
    files = to_secrets("blog", out, {"db_password": PASSWORD, "db_root_password": ROOT})
    user = f"db_password_{digest('blog', 'db_password', PASSWORD)}"
    root = f"db_root_password_{digest('blog', 'db_root_password', ROOT)}"
    assert files == {user: PASSWORD, root: ROOT}
    mariadb, wordpress = out["services"]["mariadb"], out["services"]["wordpress"]
    assert mariadb["environment"] == {"MARIADB_USER": "blog", "MARIADB_ROOT_PASSWORD_FILE": f"/run/secrets/{root}",
                                      "MARIADB_PASSWORD_FILE": f"/run/secrets/{user}"}
    assert sorted(mariadb["secrets"]) == sorted([user, root]) and wordpress["secrets"] == [user]
    assert wordpress["environment"] == {"WORDPRESS_DB_USER": "blog",
                                        "WORDPRESS_DB_PASSWORD_FILE": f"/run/secrets/{user}"}
    assert out["secrets"] == {user: {"file": f"./blog.secrets/{user}"}, root: {"file": f"./blog.secrets/{root}"}}
    # An image that does not read files keeps its variable: moving it would break it.
    assert out["services"]["tool"] == {"image": "busybox", "environment": {"PASSWORD": PASSWORD}}
    assert PASSWORD not in str(out).replace(str(out["services"]["tool"]), "")


def test_a_changed_password_is_a_new_secret_and_the_name_is_slow_to_guess_from():
    assert digest("blog", "db_password", "one") != digest("blog", "db_password", "two")
    assert digest("blog", "db_password", "one") != digest("shop", "db_password", "one")
    assert len(digest("blog", "db_password", "one")) == 12


def test_without_passwords_nothing_changes_and_image_names_are_read_past_registries_and_tags():
    out = compose()
    assert to_secrets("blog", out, {}) == {} and out == compose()
    assert [image_name(i) for i in ("mariadb", "r:5000/a/mariadb:10@sha256:ab", "postgres:16")] == \
        ["mariadb", "mariadb", "postgres"]
