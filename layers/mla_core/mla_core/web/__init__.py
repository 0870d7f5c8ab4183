"""Server-rendered pages, shared by the admin panel and the MLA dashboard.

Jinja2 templates, our own stylesheet and htmx (vendored from its npm package into `static/vendor`),
all served from our own origin. Pages call the same domain functions as the JSON API, with the
same tenant scoping, and speak English, Hindi or Tamil.

- `site`: a set of pages (`Site`) and its app: static files, sign-in, sign-out, language, errors.
- `sessions`: the session cookies and the CSRF token every form and htmx request carries.
- `rendering`: templates, redirects, the security headers.
- `forms`: posted forms read into pydantic models; errors by field.
- `i18n`: the interface's words; `charts`: bar charts as SVG geometry.
- `caller_memory`: the caller's page of the dashboard, what the office remembers about a complaint's caller.
- `meetings`: the dashboard's meetings pages (list, calendar, schedule form, live page, transcript).
- `templates/_macros.html`: the CSRF input, a labelled field, a status badge.
"""
