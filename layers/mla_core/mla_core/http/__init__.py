"""The JSON edge every FastAPI app shares: the success/error envelope and errors mapped in one place
(`envelope`), and the dependencies that say who is calling (`deps`)."""
