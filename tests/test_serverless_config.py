"""What serverless.yml deploys besides routes: handlers, artifacts, the
worker's triggers and an environment without literal secrets."""

from shared.local import function_names
from tests.test_serverless_routes import serverless_config

SECRET_SETTINGS = ["DATABASE_URL", "JWT_SECRET", "AMQP_URL"]


def test_each_folder_deploys_its_own_handler_from_its_own_zip() -> None:
    functions = serverless_config()["functions"]

    assert sorted(functions) == sorted([*function_names(), "worker"])
    for name, function in functions.items():
        assert function["handler"] == f"functions/{name}/handler.handler"
        assert function["package"] == {"artifact": f"dist/{name}.zip"}


def test_the_worker_runs_every_job_on_a_schedule_with_its_input() -> None:
    config = serverless_config()
    events = config["functions"]["worker"]["events"]
    schedules = [event["schedule"] for event in events if "schedule" in event]
    drain = config["custom"]["queueTriggers"]["cloudamqp"]["schedule"]

    jobs = {s["input"]["job"]: s["rate"] for s in [*schedules, drain]}

    assert jobs == {
        "relay_outbox": "rate(1 minute)",
        "expire_holds": "rate(1 minute)",
        "purge": "rate(1 day)",
        "drain_queue": "rate(1 minute)",
    }


def test_amazon_mq_batches_reach_the_worker_from_its_queue() -> None:
    config = serverless_config()
    rabbitmq = config["custom"]["queueTriggers"]["amazonmq"]["rabbitmq"]

    assert rabbitmq["queue"] == "${param:amqpQueue}"
    assert rabbitmq["basicAuthArn"].startswith("${param:")
    assert "batchSize" in rabbitmq and "maximumBatchingWindow" in rabbitmq
    assert config["params"]["default"]["queueTrigger"] == "amazonmq"


def test_secrets_are_passed_as_secrets_manager_arns_never_as_values() -> None:
    environment = serverless_config()["provider"]["environment"]

    assert not set(SECRET_SETTINGS) & set(environment)
    for variable in [
        "DATABASE_URL_SECRET_ARN",
        "JWT_SECRET_ARN",
        "AMQP_URL_SECRET_ARN",
    ]:
        assert environment[variable].startswith("${param:")
    assert environment["ENVIRONMENT"] == "production"
    assert environment["EMAIL_BACKEND"] == "ses"
