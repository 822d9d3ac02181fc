"""API endpoints of this app (API.md §2); mounted under /api/v1 by config.api."""

from ninja import Router

router = Router()
