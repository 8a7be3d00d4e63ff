#!/usr/bin/python
# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pki
short_description: The environment's CA, engine certificates and user bundles, on the controller
description:
  - Keeps the environment's certificates in O(dir) - the CA (C(ca.pem), C(ca-key.pem)), one key and
    certificate per engine in C(hosts/NAME/), and a client bundle (C(ca.pem), C(cert.pem),
    C(key.pem)) per user in C(users/NAME/) - and a docker context per user that uses it.
  - A certificate is issued again only when it is missing, does not match its key, is not signed
    by the CA, names another subject, other addresses or another usage, or expires within
    O(renew_days). Keys are kept. Bundles of users no longer listed are removed, and so are their
    contexts.
  - Why a custom plugin - the same work as community.crypto's C(openssl_privatekey),
    C(openssl_csr_pipe) and C(x509_certificate) with the C(ownca) provider, but as one task for
    every host and user. Those modules take three tasks per certificate, each a separate run of
    a module, and made the PKI 32 tasks and 19 s of every run that issued nothing. This reads
    every file once, decides, and writes only what differs, with the C(cryptography) library
    those modules use.
  - It runs on the controller only (an action plugin) and never opens a connection.
version_added: "0.5.0"
author: Paddock contributors
options:
  dir:
    description: Where the certificates are kept on the controller. Directories are made with mode 0700.
    type: path
    required: true
  environment:
    description: The environment's name, in the CA's name and as the prefix of its users' docker contexts.
    type: str
    required: true
  ca_cert:
    description: A supplied CA certificate (PEM), from Ansible Vault. Written to O(dir) as C(ca.pem).
    type: str
  ca_key:
    description: The supplied CA's private key (PEM, unencrypted), from Ansible Vault. Never written to disk.
    type: str
  ca_days:
    description: Validity of a generated CA, in days.
    type: int
    default: 3650
  server_days:
    description: Validity of an engine's server certificate, in days.
    type: int
    default: 825
  user_days:
    description: Validity of a user's client certificate, in days.
    type: int
    default: 365
  renew_days:
    description: A certificate that expires within this many days is issued again.
    type: int
    default: 30
  hosts:
    description:
      - The engines - C(name) (the certificate's subject), C(names), its alternative names as
        C(DNS:x) or C(IP:y), and C(registry), true on the registry's host.
    type: list
    elements: dict
    default: []
  users:
    description:
      - The users of C(paddock_users) - C(name) and C(role) - and the console's identities. A
        user with C(context) false gets a bundle but no docker context (an identity of a
        service, not of a person).
    type: list
    elements: dict
    default: []
  services:
    description:
      - The platform's own HTTPS services (the console) - C(name) and C(names), the alternative
        names its server certificate carries (C(DNS:x), C(IP:y)). Each gets a key and a server
        certificate from the environment's CA in C(services/NAME/), with C(ca.pem). Those no
        longer listed are removed.
    type: list
    elements: dict
    default: []
  part:
    description:
      - C(all) does everything below. C(environment) keeps the CA, the users' bundles and their
        contexts; C(hosts) keeps the engines' certificates of O(hosts) only, with the CA the
        environment part made, so that a play can run it once per host and each host reports
        its own change.
      - C(join_tokens_rotated) records that the swarm's join tokens were rotated (see
        RV(rotate_join_tokens)), and does nothing else.
    type: str
    choices: [all, environment, hosts, join_tokens_rotated]
    default: all
  registry_clients:
    description:
      - Whether the platform runs its own registry. Then a second CA, the registry clients' CA, is
        kept in C(registry-clients/); it signs one client certificate per engine in
        C(hosts/NAME/registry-client/) and nothing else, so that no user's certificate opens the
        registry. The host of O(hosts) with C(registry) true gets the registry's own key and
        server certificate (from the environment's CA) in C(registry/).
    type: bool
    default: false
  ike:
    description:
      - Whether the managed network authenticates its hosts with certificates. Then a third CA,
        the managed network's, is kept in C(managed-network/); it signs one IKE certificate per
        host in C(hosts/NAME/ike/), whose alternative names are the host's name and addresses (a
        peer pins the address it expects), and nothing else.
    type: bool
    default: false
  context_endpoint:
    description:
      - The engine API every user's docker context points at (C(tcp://ADDRESS:2376)). Contexts are
        named C(ENVIRONMENT-USER). Omitted, no context is made. Without a docker CLI on the
        controller, only the bundles are made, with a warning.
    type: str
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: Issue the environment's certificates, all at once
  paddock.platform.pki:
    dir: "{{ inventory_dir }}/../.pki/pki"
    environment: production
    hosts:
      - {name: node1, names: ["DNS:node1", "IP:192.0.2.10"]}
    users:
      - {name: alice, role: admin}
    context_endpoint: tcp://192.0.2.10:2376
  run_once: true
"""

RETURN = r"""
issued:
  description: What was (or, in check mode, would be) issued, by subject, with the reason.
  type: dict
  returned: always
  sample: {CA: no CA key, node1: no certificate}
expiry:
  description: Every engine's and user's certificate expiry (UTC), by subject.
  type: dict
  returned: always
users_renewed:
  description: Users whose certificate or bundle changed.
  type: list
  returned: always
users_removed:
  description: Users whose bundle was removed (no longer listed).
  type: list
  returned: always
rotate_join_tokens:
  description:
    - Why the swarm's join tokens must be rotated, empty when they need not be. The admins (who
      read the tokens) are kept in C(join-tokens.json); an admin removed or given another role
      adds a reason, which stays until O(part=join_tokens_rotated) records the rotation. An
      environment made before this record existed rotates once.
  type: list
  returned: always
changes:
  description: Every file, directory and context written or removed.
  type: list
  returned: always
"""
