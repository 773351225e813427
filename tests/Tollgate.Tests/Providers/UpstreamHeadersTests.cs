using Tollgate.Providers;
using Xunit;

namespace Tollgate.Tests.Providers;

public sealed class UpstreamHeadersTests
{
    [Theory]
    [InlineData("application/json;charset=UTF-8", "application/json;charset=UTF-8")]
    [InlineData("text/event-stream; charset=utf-8", "text/event-stream; charset=utf-8")]
    [InlineData(null, "application/json")]
    [InlineData("application/jsön", "application/json")]
    [InlineData("application/json\u0001", "application/json")]
    public void The_content_type_passes_as_the_provider_wrote_it_unless_a_header_could_not_carry_it(string? sent, string passed)
    {
        using var response = new HttpResponseMessage { Content = new ByteArrayContent([]) };
        if (sent is not null)
        {
            response.Content.Headers.TryAddWithoutValidation("Content-Type", sent);
        }

        Assert.Equal(passed, UpstreamHeaders.ContentType(response, "application/json"));
    }
}
