"""Server-rendered pages; each area adds its router here with one line."""

from fastapi import APIRouter

from app.web.pages import (
    account,
    audit,
    campaigns,
    cohorts,
    home,
    oidc_sign_in,
    reports,
    review,
    schedules,
    session,
    users,
    worklist,
    worklist_letters,
)

router = APIRouter(include_in_schema=False)
router.include_router(session.router)
router.include_router(oidc_sign_in.router)
router.include_router(account.router)
router.include_router(users.router)
router.include_router(home.router)
router.include_router(audit.router)
router.include_router(cohorts.router)
router.include_router(review.router)
router.include_router(reports.router)
router.include_router(campaigns.router)
router.include_router(schedules.router)
# Before the worklist's own pages: /worklist/letters.pdf is not a task id.
router.include_router(worklist_letters.router)
router.include_router(worklist.router)
