"""民情二维码: one permanent string-scene QR code per grid, asked of the Official Account."""
from __future__ import annotations

import os

from sqlalchemy import select

from .errors import PlatformError
from .models import Grid


def create_grid_codes(bot, out: str | None = None) -> list[tuple[str, str]]:
    """Creates (or re-fetches) each grid's permanent QR code and saves it as PNG."""
    folder = out or os.path.join(bot.cfg["data_dir"], "qrcodes")
    os.makedirs(folder, exist_ok=True)
    client = bot.platform.clients["wechat"]
    with bot.db.session() as session:
        grids = session.scalars(select(Grid).where(Grid.active, Grid.qr_scene.is_not(None))
                                .order_by(Grid.id)).all()
    saved = []
    for grid in grids:
        result = client.call("post", "qrcode/create", data={
            "action_name": "QR_LIMIT_STR_SCENE",
            "action_info": {"scene": {"scene_str": grid.qr_scene}}})
        res = client._http.get(bot.cfg["wechat"]["qrcode_url"], params={"ticket": result["ticket"]},
                               timeout=10)
        if res.status_code != 200 or not res.content.startswith(b"\x89PNG"):
            raise PlatformError(None, f"QR image for grid {grid.id} not returned", res.status_code)
        path = os.path.join(folder, f"{grid.id}-{grid.qr_scene}.png")
        with open(path, "wb") as fh:
            fh.write(res.content)
        saved.append((grid.id, path))
    return saved
