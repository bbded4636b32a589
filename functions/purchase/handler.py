"""Lambda entry point of the purchase function."""

from shared.coldstart import container_init

with container_init():
    from mangum import Mangum

    from functions.purchase.routes import router
    from shared.app import create_app
    from shared.settings import get_settings

    app = create_app("purchase", [router])
    handler = Mangum(
        app, lifespan="off", api_gateway_base_path=get_settings().api_gateway_base_path
    )
