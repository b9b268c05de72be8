"""Knowledge managers per collection (Collection.manager_groups).

Until now every active staff member managed the collections they could read. So
that nobody loses (or gains) anything on upgrade, each collection that such staff
could read gets one manager group, "<slug> managers", holding exactly those staff
(superusers need none: they manage everything). Afterwards the groups are ordinary
groups: rename them, map them to the directory, or replace them in the admin.
Collections no staff could read get no manager group.
"""

from __future__ import annotations

from django.db import migrations, models
from django.db.models import Q


def managers_from_staff(apps, schema_editor) -> None:
    Collection = apps.get_model("knowledge", "Collection")
    Group = apps.get_model("auth", "Group")
    User = apps.get_model("accounts", "User")
    staff = User.objects.filter(is_staff=True, is_active=True, is_superuser=False)
    for collection in Collection.objects.all():
        readers = staff.filter(
            Q(pk__in=staff) if collection.is_public else Q(groups__in=collection.groups.all())
        ).distinct()
        if not readers.exists():
            continue
        name = f"{collection.slug} managers"
        group = Group.objects.filter(name__iexact=name).first() or Group.objects.create(name=name)
        group.user_set.add(*readers)
        collection.manager_groups.add(group)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("accounts", "0001_initial"),
        ("knowledge", "0003_search_vocabulary"),
    ]

    operations = [
        migrations.AddField(
            model_name="collection",
            name="manager_groups",
            field=models.ManyToManyField(
                blank=True,
                help_text="Members of these groups manage it: upload, re-ingest, delete, set readers.",
                related_name="managed_collections",
                to="auth.group",
            ),
        ),
        migrations.RunPython(managers_from_staff, migrations.RunPython.noop),
    ]
