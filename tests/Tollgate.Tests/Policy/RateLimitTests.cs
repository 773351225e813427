using System.Net;
using System.Text;
using System.Text.Json;
using Tollgate.FakeProviders;
using Tollgate.Policy.RateLimits;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Policy;

public sealed class RateLimitTests
{
    [Fact]
    public void Sixty_rpm_offered_at_five_times_for_three_minutes_never_admits_more_than_sixty_in_any_minute()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero));
        var limiter = new RateLimiter(clock);
        var subject = new[] { ("key k", new RateLimit(60, null)) };
        var admitted = new List<DateTimeOffset>();
        var refusals = new List<TimeSpan>();

        for (var i = 0; i < 900; i++)
        {
            var (_, error, wait) = limiter.Admit(subject, 1);
            if (error is null)
            {
                admitted.Add(clock.GetUtcNow());
            }
            else
            {
                refusals.Add(wait);
            }

            clock.Advance(TimeSpan.FromMilliseconds(200));
        }

        foreach (var at in admitted)
        {
            Assert.True(admitted.Count(a => a > at - TimeSpan.FromMinutes(1) && a <= at) <= 60);
        }

        Assert.Equal(180, admitted.Count);
        Assert.All(refusals, wait => Assert.True(wait > TimeSpan.Zero && wait <= TimeSpan.FromMinutes(1)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Thousands_of_admissions_corrections_and_take_backs_decide_as_a_plain_log_of_every_admission_would(int seed)
    {
        // A generated run against the plainest model of the rule: every live admission in a list, summed each time.
        var random = new Random(seed);
        var start = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        var window = TimeSpan.FromMinutes(1);
        var log = new SlidingWindowLog(5_000, window);
        var model = new List<(DateTimeOffset At, long Weight, bool Live, SlidingWindowLog.Ticket Ticket)>();
        var now = start;
        for (var step = 0; step < 20_000; step++)
        {
            now += TimeSpan.FromMilliseconds(random.Next(0, 40));
            model.RemoveAll(m => m.At <= now - window);
            var weight = random.Next(0, 3) == 0 ? random.Next(1, 200) : 1;
            var inWindow = model.Where(m => m.Live && m.At > now - window).Sum(m => m.Weight);
            var (ticket, wait) = log.TryAcquire(now, weight);
            Assert.Equal(inWindow + weight <= 5_000, ticket is not null);
            if (ticket is null)
            {
                Assert.InRange(wait, TimeSpan.FromTicks(1), window);
                continue;
            }

            model.Add((now, weight, true, ticket));
            var pick = random.Next(model.Count);
            switch (random.Next(0, 10))
            {
                case 0:
                    // Taken back: its weight leaves the window now (if it is still in it).
                    model[pick].Ticket.Release();
                    model[pick] = model[pick] with { Live = false };
                    break;
                case 1:
                    // Corrected to its real weight, unless it was taken back.
                    var actual = random.Next(0, 300);
                    model[pick].Ticket.Correct(actual);
                    if (model[pick].Live)
                    {
                        model[pick] = model[pick] with { Weight = actual };
                    }

                    break;
            }
        }
    }

    [Fact]
    public void Tokens_are_admitted_on_the_estimate_and_corrected_with_actual_usage()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        var limiter = new RateLimiter(clock);
        var subject = new[] { ("deployment d", new RateLimit(null, 1000)) };

        var (first, _, _) = limiter.Admit(subject, 900);
        var (_, refused, _) = limiter.Admit(subject, 200);
        Assert.Single(first).Correct(150);
        var (_, afterCorrection, _) = limiter.Admit(subject, 200);

        Assert.NotNull(refused);
        Assert.Null(afterCorrection);
    }

    [Fact]
    public void A_request_refused_by_one_limit_takes_nothing_from_another()
    {
        var limiter = new RateLimiter(new ManualTimeProvider(DateTimeOffset.UnixEpoch));
        var key = ("key k", new RateLimit(5, null));
        var deployment = ("deployment d", new RateLimit(1, null));

        Assert.Null(limiter.Admit([key, deployment], 1).Error);
        for (var i = 0; i < 10; i++)
        {
            Assert.NotNull(limiter.Admit([key, deployment], 1).Error);
        }

        Assert.Null(limiter.Admit([key], 1).Error);
    }

    [Fact]
    public async Task Through_the_gateway_a_limited_deployment_answers_429_with_retry_after()
    {
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync("models:\n" + TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", upstream.BaseUrl, "    rpm: 2"));

        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < 3; i++)
        {
            responses.Add(await gateway.Client.PostAsync("/v1/chat/completions", new StringContent("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json")));
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], responses.Select(r => r.StatusCode));
        Assert.InRange(responses[2].Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 60);
        Assert.Equal("rate_limit_exceeded", JsonDocument.Parse(await responses[2].Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(2, upstream.Received.Count);
    }

    [Fact]
    public async Task A_deployment_at_its_rpm_passes_requests_to_the_aliass_other_deployment_and_its_fallback_without_recording_them()
    {
        await using var first = await FakeOpenAiUpstream.StartAsync();
        await using var second = await FakeOpenAiUpstream.StartAsync();
        await using var spare = await FakeOpenAiUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync("fallbacks:\n  gpt-4o-mini: [spare]\nmodels:\n"
            + TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", first.BaseUrl, "    name: first\n    rpm: 2\n")
            + TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", second.BaseUrl, "    name: second\n    rpm: 2\n")
            + TestGateway.Model("spare", "gpt-4o-mini", spare.BaseUrl, "    name: spare-deployment\n    rpm: 1"));

        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < 6; i++)
        {
            responses.Add(await gateway.Client.PostAsync("/v1/chat/completions", new StringContent("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json")));
        }

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.OK, 5).Append(HttpStatusCode.TooManyRequests), responses.Select(r => r.StatusCode));
        Assert.Equal((2, 2, 1), (first.Received.Count, second.Received.Count, spare.Received.Count));
        Assert.Equal("spare-deployment", responses[4].Headers.GetValues("X-Tollgate-Model").Single());
        Assert.InRange(responses[5].Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 60);
        Assert.Equal(5, (await gateway.RecordsAsync(5)).Count);
    }

    [Fact]
    public async Task A_keys_own_rpm_applies_to_that_key_only()
    {
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync("models:\n" + TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", upstream.BaseUrl));
        var created = await gateway.Client.PostAsync("/admin/keys", new StringContent("""{"name":"slow","rpm":1}""", Encoding.UTF8, "application/json"));
        var secret = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("key").GetString();
        using var client = new HttpClient { BaseAddress = gateway.BaseUrl };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
        StringContent Chat() => new("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json");

        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/chat/completions", Chat())).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.PostAsync("/v1/chat/completions", Chat())).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.PostAsync("/v1/chat/completions", Chat())).StatusCode);
    }
}
