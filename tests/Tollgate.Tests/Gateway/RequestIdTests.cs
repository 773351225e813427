using Tollgate.Gateway.Pipeline;
using Xunit;

namespace Tollgate.Tests.Gateway;

public sealed class RequestIdTests
{
    [Fact]
    public void An_id_is_a_version_7_uuid_whose_time_is_the_requests()
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_123);

        var id = RequestId.New(at);

        Assert.Matches("^req_[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$", id);
        var uuid = Guid.ParseExact(id[4..], "N");
        Assert.Equal(7, uuid.Version);
        Assert.Equal(at.ToUnixTimeMilliseconds(), Convert.ToInt64(id[4..16], 16));
    }

    [Fact]
    public void Ids_sort_by_time_and_do_not_repeat()
    {
        var start = DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_000);
        var ids = Enumerable.Range(0, 200_000).Select(n => RequestId.New(start.AddMilliseconds(n / 1000))).ToList();

        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        var firstOfEachMillisecond = ids.Where((_, n) => n % 1000 == 0).ToList();
        Assert.Equal(firstOfEachMillisecond, firstOfEachMillisecond.Order(StringComparer.Ordinal));
    }
}
