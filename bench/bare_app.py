"""The cold-start baseline: the smallest FastAPI app behind Mangum."""

from fastapi import FastAPI
from mangum import Mangum

app = FastAPI()


@app.get("/ping")
def ping() -> dict[str, bool]:
    return {"ok": True}


handler = Mangum(app, lifespan="off")
