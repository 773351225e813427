using Tollgate.Metering;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Metering;

public sealed class HourlyCostAllocatorTests
{
    [Fact]
    public void A_lone_request_pays_for_its_own_time()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        var gpu = new HourlyCostAllocator(3.60m, clock);

        var mark = gpu.Begin();
        clock.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(0.01m, gpu.End(mark));
    }

    [Fact]
    public void Overlapping_requests_share_the_time_they_overlap_and_idle_time_is_charged_to_nobody()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        var gpu = new HourlyCostAllocator(3.60m, clock); // $0.001 a second

        var a = gpu.Begin();
        clock.Advance(TimeSpan.FromSeconds(2));  // a alone: 2 s
        var b = gpu.Begin();
        clock.Advance(TimeSpan.FromSeconds(4));  // a and b: 4 s shared
        var costA = gpu.End(a);
        clock.Advance(TimeSpan.FromSeconds(1));  // b alone: 1 s
        var costB = gpu.End(b);
        clock.Advance(TimeSpan.FromSeconds(30)); // idle
        var c = gpu.Begin();
        clock.Advance(TimeSpan.FromSeconds(1));
        var costC = gpu.End(c);

        Assert.Equal(0.004m, costA);
        Assert.Equal(0.003m, costB);
        Assert.Equal(0.001m, costC);
        Assert.Equal(0.008m, costA + costB + costC); // exactly the 8 busy seconds
    }
}
