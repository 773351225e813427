namespace Tollgate.Analytics;

/// <summary>CSV cells (RFC 4180): a value with a comma, quote or line break is quoted, its quotes doubled.</summary>
public static class CsvText
{
    public static string Cell(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
