"""The complaints list page at scale, against the JSON API for the same view, and the first load's weight.

1,000,000 complaints in one tenant (100 other tenants present), seeded as `bench.complaints_scale`
does. Server time of `GET /app/complaints` (the rendered page) and of `GET /api/complaints` (the
JSON of the same view), alternating in one process, the caller given by dependency overrides
(goal: the page within 1.5× of the API). Then the bytes of a first load: the page, and every
stylesheet and script it references, all from our own origin (goal: ≤ 300 KB).
Run: `.venv/bin/python -m bench.pages [--complaints 1000000]` (a few minutes; not in CI).
"""

from __future__ import annotations

import asyncio
import re
import statistics

import httpx

from bench.complaints_scale import ServerTiming, percentile, setup


def main() -> None:
    run_setup = setup(__doc__ or "")
    args = run_setup.args
    from local_stack.template import function

    app = function("DashboardFunction").import_module().app
    import dashboard_pages as pages
    from mla_core.http import deps

    app.dependency_overrides[deps.office_user] = run_setup.signed_in
    pages.pages.dependency_overrides[pages.office_user] = run_setup.signed_in

    async def run() -> None:
        timing = ServerTiming(app)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=timing), base_url="http://bench") as client:
            views = {
                "default (newest 50)": {},
                "filtered (status+category+language)": {"status": "assigned", "category": "water", "language": "ta"},
                "text search (Tamil word)": {"q": "குடிநீர்"},
            }
            print(f"GET /app/complaints vs GET /api/complaints, {args.runs} runs each (goal: page ≤ 1.5× API)")
            for label, params in views.items():
                page_ms, api_ms = [], []
                for i in range(args.runs + 10):
                    page = await client.get("/app/complaints", params=params)
                    assert page.status_code == 200, page.text[:500]
                    page_time = timing.last
                    api = await client.get("/api/complaints", params=params)
                    assert api.status_code == 200, api.text[:500]
                    if i >= 10:  # the first ten warm both
                        page_ms.append(page_time * 1000)
                        api_ms.append(timing.last * 1000)
                p50 = statistics.median(page_ms) / statistics.median(api_ms)
                print(
                    f"  {label:<38} page p50 {statistics.median(page_ms):5.2f} p95 {percentile(page_ms, 0.95):5.2f} ms"
                    f"   API p50 {statistics.median(api_ms):5.2f} p95 {percentile(api_ms, 0.95):5.2f} ms   ratio p50 {p50:4.2f}"
                )
            await first_load(client)

    async def first_load(client: httpx.AsyncClient) -> None:
        page = await client.get("/app/complaints")
        assets = re.findall(r'(?:href|src)="(/[^"]+\.(?:css|js))"', page.text)
        fragments = re.findall(r'hx-get="(/[^"]+)" hx-trigger="load"', page.text)
        sizes = {"page": len(page.content)}
        for path in [*assets, *(f.replace("&amp;", "&") for f in fragments)]:
            response = await client.get(path)
            assert response.status_code == 200, path
            sizes[path] = len(response.content)
        outside = re.findall(r'(?:href|src)="(https?://[^"]+)"', page.text)
        print(
            f"First load of /app/complaints: {sum(sizes.values()) / 1000:.1f} KB in {len(sizes)} responses"
            f" (goal ≤ 300 KB), {len(outside)} from another origin (goal 0)"
        )
        for name, size in sizes.items():
            print(f"  {name:<45} {size / 1000:6.1f} KB")

    asyncio.run(run())
    run_setup.pg.stop()


if __name__ == "__main__":
    main()
