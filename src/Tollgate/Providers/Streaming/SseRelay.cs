using System.Buffers;
using System.IO.Pipelines;
using Tollgate.Metering;

namespace Tollgate.Providers.Streaming;

/// <summary>
/// Relays a provider's server-sent events to the client as they arrive, event by event, never buffering the stream.
/// An <see cref="IStreamInspector"/> of the provider's format reads each event on the way through. When the client
/// leaves, the upstream stream is closed — or, with <c>readOnAfterClientLeaves</c>, read on (bounded by the
/// call's timeouts) until the provider's final usage arrives, so the record has the exact bill.
/// </summary>
public static class SseRelay
{
    public static async Task<StreamOutcome> RelayAsync(
        PipeReader upstream,
        IStreamInspector inspector,
        IReadOnlyList<KeyValuePair<string, string>> upstreamHeaders,
        IStreamSink sink,
        CancellationToken timeoutToken,
        CancellationToken clientToken,
        Action? progressed = null,
        bool readOnAfterClientLeaves = false)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        ArgumentNullException.ThrowIfNull(inspector);
        ArgumentNullException.ThrowIfNull(sink);
        long characters = 0;
        var begun = false;
        var sawEnd = false;
        var clientGone = false;
        byte[]? scratch = null;

        // With read-on, the client's leaving is noticed (on its token or on a failed write) and the relay goes on alone.
        bool ClientLeft(Exception? ex = null) =>
            readOnAfterClientLeaves && (clientToken.IsCancellationRequested || ex is IOException) && (clientGone = true);

        StreamOutcome ClientCancelled() =>
            new(null, Settled(inspector), characters, new ProviderFailure(ProviderFailureKind.ClientCancelled, "the client closed the connection"));
        try
        {
            while (true)
            {
                var read = await upstream.ReadAsync(timeoutToken);
                progressed?.Invoke();
                var buffer = read.Buffer;
                while (SseEventFramer.TryReadEvent(ref buffer, out var sseEvent))
                {
                    var bytes = sseEvent.IsSingleSegment ? sseEvent.First : sseEvent.ToArray();
                    var facts = InspectSafely(inspector, SseEventFramer.Data(bytes.Span, ref scratch));
                    characters += facts.ContentCharacters;
                    if (clientGone || ClientLeft())
                    {
                        if (facts.IsEnd || inspector.UsageFinal)
                        {
                            return ClientCancelled();
                        }

                        continue;
                    }

                    try
                    {
                        if (!begun)
                        {
                            begun = true;
                            await sink.BeginAsync(upstreamHeaders, clientToken);
                        }

                        if (facts.IsEnd)
                        {
                            sawEnd = true;
                            await sink.FinishAsync(Settled(inspector), characters, clientToken);
                        }

                        if (facts.Forward && (facts.Rewritten ?? bytes) is { Length: > 0 } output)
                        {
                            await sink.WriteEventAsync(output, clientToken);
                        }
                    }
                    catch (Exception ex) when (ex is OperationCanceledException or IOException && !sawEnd && ClientLeft(ex))
                    {
                        // Read on for the usage; the events from here on go nowhere.
                    }
                }

                upstream.AdvanceTo(buffer.Start, buffer.End);
                if (read.IsCompleted && clientGone)
                {
                    return ClientCancelled();
                }

                if (read.IsCompleted)
                {
                    if (!begun)
                    {
                        await sink.BeginAsync(upstreamHeaders, clientToken);
                    }

                    if (!sawEnd && inspector.Complete() is { } closing)
                    {
                        sawEnd = true;
                        await sink.FinishAsync(Settled(inspector), characters, clientToken);
                        await sink.WriteEventAsync(closing, clientToken);
                    }

                    // A stream that ends before its end marker and before its final usage was cut short.
                    return new StreamOutcome(null, Settled(inspector), characters, sawEnd || inspector.UsageFinal
                        ? null
                        : new ProviderFailure(ProviderFailureKind.StreamCut, "the provider closed the stream before it finished"))
                    {
                        ProviderObjectId = inspector.ProviderObjectId,
                    };
                }
            }
        }
        catch (OperationCanceledException) when (clientToken.IsCancellationRequested && !clientGone)
        {
            return ClientCancelled();
        }
        catch (OperationCanceledException) when (clientGone)
        {
            // Read on after the client left, until a timeout: the output is estimated from what was read.
            return ClientCancelled();
        }
        catch (OperationCanceledException)
        {
            return new StreamOutcome(null, Settled(inspector), characters, new ProviderFailure(ProviderFailureKind.Timeout, "the stream passed the deployment's timeout"));
        }
        catch (IOException ex)
        {
            var kind = clientToken.IsCancellationRequested ? ProviderFailureKind.ClientCancelled : ProviderFailureKind.StreamCut;
            return new StreamOutcome(null, Settled(inspector), characters, new ProviderFailure(kind, ex.Message));
        }
        catch (HttpRequestException ex)
        {
            return new StreamOutcome(null, Settled(inspector), characters, new ProviderFailure(ProviderFailureKind.StreamCut, ex.Message));
        }
        finally
        {
            await upstream.CompleteAsync();
        }
    }

    /// <summary>
    /// An event the inspector cannot read (invalid UTF-8 inside a string, a field of the wrong type) is dropped,
    /// and the stream goes on: one broken event must not cost the record of the whole stream.
    /// </summary>
    private static StreamEventFacts InspectSafely(IStreamInspector inspector, ReadOnlySpan<byte> data)
    {
        try
        {
            return inspector.Inspect(data);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.Text.Json.JsonException or FormatException or ArgumentException or OverflowException or KeyNotFoundException)
        {
            return new StreamEventFacts(false, false, 0);
        }
    }

    /// <summary>The usage to record: before the final counts arrive the output is unknown (and will be estimated).</summary>
    private static Usage Settled(IStreamInspector inspector) =>
        inspector.UsageFinal ? inspector.Usage : inspector.Usage with { OutputTokens = null, ReasoningTokens = null };
}
