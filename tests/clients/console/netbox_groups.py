"""The NetBox pipeline step docs/integrations/netbox.md's "Group mapping" documents, minus the
Django model: it reads the groups claim social-core validated in the ID token. On NetBox the
same function ends with `user.groups.set(Group.objects.filter(name__in=names))`; here the names
are kept on the user.
"""


def sync_groups(backend, user=None, *args, **kwargs):
    names = (getattr(backend, "id_token", None) or {}).get("groups", [])
    if user is not None:
        user.groups = [n for n in names if isinstance(n, str)]
