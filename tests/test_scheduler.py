"""One active scheduler: a Redis lease that a second scheduler cannot take while it is held."""
from bot.scheduler import Leadership, jobs


def test_only_one_scheduler_leads_and_a_standby_takes_over_after_release(bot):
    first, second = Leadership(bot.redis), Leadership(bot.redis)
    assert first.try_acquire() is True
    assert second.try_acquire() is False
    assert first.try_acquire() is True          # renewing its own lease
    first.release()
    assert second.try_acquire() is True
    assert first.try_acquire() is False


def test_a_dead_leaders_lease_expires(bot):
    first, second = Leadership(bot.redis), Leadership(bot.redis)
    first.try_acquire()
    ttl = bot.redis.ttl(first.key)
    assert 0 < ttl <= 45                          # a dead leader is replaced within a minute
    bot.redis.delete(first.key)                   # what expiry does
    assert second.try_acquire() is True


def test_every_job_runs_cleanly_on_an_empty_install(bot):
    from bot.scheduler import run_job

    failed = [name for name, fn, _ in jobs(bot) if not run_job(bot, name, fn)]
    assert failed == [] and bot.redis.hgetall("bot:job-errors") == {}

def test_a_failing_job_is_reported_and_the_next_one_still_runs(bot, client):
    from bot.scheduler import run_job

    def broken(_bot):
        raise RuntimeError("disk full")

    ran = []
    assert run_job(bot, "digest", broken) is False
    assert run_job(bot, "sla", lambda b: ran.append(1)) is True and ran == [1]
    health = client.get("/api/v1/health", headers={"Authorization": "Bearer test-admin-token"}).get_json()
    assert health["job_errors"]["digest"].endswith("RuntimeError: disk full")
    assert health["outbox"] == {} and health["inflight"] == 0 and health["scheduler_leader"] is False
