"""Every REST area's controllers, for ``server.app.feature_routes()``."""

from __future__ import annotations

from typing import Any


def rest_controllers() -> list[Any]:
    from server.admin.controller import (
        CadenceRuleAdminController,
        DirectoryController,
        GiftItemAdminController,
        RegionAdminController,
        UserAdminController,
    )
    from server.conflicts.controller import ConflictController
    from server.contacts.controller import ContactController
    from server.customers.controller import CustomerController
    from server.gifts.controller import GiftController
    from server.imports.controller import ExportController, ImportController
    from server.notes.controller import NoteController
    from server.reports.controller import ReportController
    from server.revisits.controller import PlannedRevisitController
    from server.visits.controller import VisitController

    return [
        CustomerController,
        ContactController,
        VisitController,
        GiftController,
        NoteController,
        PlannedRevisitController,
        ConflictController,
        UserAdminController,
        RegionAdminController,
        CadenceRuleAdminController,
        GiftItemAdminController,
        DirectoryController,
        ReportController,
        ExportController,
        ImportController,
    ]
