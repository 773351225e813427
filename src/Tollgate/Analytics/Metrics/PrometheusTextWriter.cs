using System.Globalization;
using System.Text;

namespace Tollgate.Analytics.Metrics;

/// <summary>
/// Writes metric families in the Prometheus text exposition format (version 0.0.4): <c># HELP</c> and <c># TYPE</c>
/// before each family's samples, label values escaped, histograms as cumulative <c>_bucket</c> series ending at
/// <c>+Inf</c> plus <c>_sum</c> and <c>_count</c>.
/// </summary>
public sealed class PrometheusTextWriter
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";
    private readonly StringBuilder _text = new();

    /// <summary>Starts a family; every sample written until the next family belongs to it.</summary>
    public void Family(string name, string type, string help)
    {
        _text.Append("# HELP ").Append(name).Append(' ').Append(EscapeHelp(help)).Append('\n');
        _text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    }

    public void Sample(string name, IReadOnlyList<(string Name, string Value)> labels, double value)
    {
        _text.Append(name);
        if (labels.Count > 0)
        {
            _text.Append('{');
            for (var i = 0; i < labels.Count; i++)
            {
                _text.Append(i == 0 ? string.Empty : ",").Append(labels[i].Name).Append("=\"").Append(EscapeLabel(labels[i].Value)).Append('"');
            }

            _text.Append('}');
        }

        _text.Append(' ').Append(Number(value)).Append('\n');
    }

    /// <summary>A counter family with one label: a sample per label value, in ordinal order of the values.</summary>
    public void Counter(string name, string help, string label, IEnumerable<(string Value, double Count)> samples)
    {
        Family(name, "counter", help);
        foreach (var (value, count) in samples.OrderBy(s => s.Value, StringComparer.Ordinal))
        {
            Sample(name, [(label, value)], count);
        }
    }

    /// <summary>One histogram series (its family started with type <c>histogram</c>).</summary>
    public void Histogram(string name, IReadOnlyList<(string Name, string Value)> labels, Histogram histogram)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        var (cumulative, sum) = histogram.Snapshot();
        for (var i = 0; i < cumulative.Length; i++)
        {
            var le = i < histogram.Bounds.Count ? Number(histogram.Bounds[i]) : "+Inf";
            Sample(name + "_bucket", [.. labels, ("le", le)], cumulative[i]);
        }

        Sample(name + "_sum", labels, sum);
        Sample(name + "_count", labels, cumulative[^1]);
    }

    public override string ToString() => _text.ToString();

    private static string Number(double value) => double.IsPositiveInfinity(value) ? "+Inf"
        : double.IsNegativeInfinity(value) ? "-Inf"
        : double.IsNaN(value) ? "NaN"
        : value.ToString("R", CultureInfo.InvariantCulture);

    private static string EscapeLabel(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string EscapeHelp(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
