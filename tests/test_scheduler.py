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


def test_the_jobs_are_declared(bot):
    assert [name for name, _, _ in jobs(bot)] == [
        "sla", "recover", "outbox", "parked_index", "photos", "sentiment", "close_unrated", "digest", "stars",
        "compliance", "calendar", "appointment_reminders", "seal", "audit_anchor", "retention", "keywords",
        "hot_topics"]
