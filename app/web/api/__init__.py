"""The JSON API (``/api/v1``): bearer tokens of service accounts only; each area adds a router."""

from fastapi import APIRouter

from app.web.api import campaigns, cohorts, fhir, me, reports, review, schedules, worklist
from app.web.api.responses import EVERY_ROUTE

router = APIRouter(prefix="/api/v1", responses=EVERY_ROUTE)
router.include_router(me.router)
router.include_router(cohorts.router)
router.include_router(review.router)
router.include_router(reports.router)
router.include_router(campaigns.router)
router.include_router(schedules.router)
router.include_router(fhir.router)
router.include_router(worklist.router)
