# Production image: the web app by default; run the dispatcher with `waitlist worker`.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WAITLIST_HOME=/srv/waitlist \
    WAITLIST_LOG_FORMAT=json

RUN groupadd --system waitlist && useradd --system --gid waitlist --home-dir /srv/waitlist waitlist

WORKDIR /srv/waitlist
# The wheel carries the migrations, shipped scripts and rules (pyproject.toml's force-include),
# so they must be in place before `pip install .`.
COPY pyproject.toml README.md LICENSE ./
COPY app ./app
COPY migrations ./migrations
COPY call_flows ./call_flows
COPY exclusions ./exclusions
RUN pip install . && rm -rf app migrations

# WAITLIST_HOME keeps a writable copy of the scripts (approvals are recorded beside them) and
# rules; mount a trust's own over /srv/waitlist/call_flows and /srv/waitlist/exclusions.
RUN chown -R waitlist:waitlist /srv/waitlist

USER waitlist
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"]
CMD ["waitlist", "serve", "--host", "0.0.0.0", "--port", "8000"]
