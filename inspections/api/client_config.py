"""What a client needs to know about this deployment before it signs in: the map's tile server,
the limits the server will apply (so a phone can warn before saving instead of being refused after
sending), and the push configuration. Public: nothing here is secret."""

from django.conf import settings
from django.http import HttpRequest
from ninja import Router
from pydantic import BaseModel, Field

router = Router(tags=["config"])


class WebPushOut(BaseModel):
    firebase: dict = Field(description="Firebase web app config (apiKey, projectId, messagingSenderId, appId)")
    vapid_key: str = Field(description="The web push certificate's public key (Firebase console → Cloud Messaging)")


class ClientConfigOut(BaseModel):
    map_tile_url: str = Field(
        description="Tile URL template ({z}/{x}/{y}, optional {s}); empty: draw on a plain background, request no tiles"
    )
    map_tile_attribution: str
    geo_verified_max_distance_m: float = Field(description="A fix further from the shop is judged out_of_range")
    geo_low_accuracy_m: float = Field(description="A fix with a worse accuracy is judged low_accuracy")
    visit_sync_max_batch: int = Field(description="The most visits one POST visits/sync accepts")
    photo_max_bytes: int = Field(description="The largest photo upload accepted")
    web_push: WebPushOut | None = Field(description="FCM web push settings; null: no push, clients poll the inbox")


@router.get("config", auth=None, response={200: ClientConfigOut})
def client_config(request: HttpRequest):
    """This deployment's settings for clients (map tiles, limits, push); no sign-in needed."""
    web_push = None
    if settings.FCM_WEB_CONFIG and settings.FCM_WEB_VAPID_KEY:
        web_push = WebPushOut(firebase=settings.FCM_WEB_CONFIG, vapid_key=settings.FCM_WEB_VAPID_KEY)
    return ClientConfigOut(
        map_tile_url=settings.MAP_TILE_URL,
        map_tile_attribution=settings.MAP_TILE_ATTRIBUTION,
        geo_verified_max_distance_m=settings.GEO_VERIFIED_MAX_DISTANCE_M,
        geo_low_accuracy_m=settings.GEO_LOW_ACCURACY_M,
        visit_sync_max_batch=settings.VISIT_SYNC_MAX_BATCH,
        photo_max_bytes=settings.PHOTO_MAX_BYTES,
        web_push=web_push,
    )
