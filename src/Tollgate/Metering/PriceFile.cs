using System.Text.Json;

namespace Tollgate.Metering;

/// <summary>Reads a price file of either format: Tollgate's catalogue (a <c>prices</c> list) or a LiteLLM price list.</summary>
public static class PriceFile
{
    /// <param name="path">The file.</param>
    /// <param name="liteLlmEffectiveFrom">The date given to a LiteLLM file's prices, which carry none.</param>
    public static PriceImport Read(string path, DateOnly liteLlmEffectiveFrom)
    {
        using var stream = File.OpenRead(path);
        var isCatalog = false;
        using (var probe = JsonDocument.Parse(stream))
        {
            isCatalog = probe.RootElement.ValueKind == JsonValueKind.Object
                && probe.RootElement.TryGetProperty("prices", out var list) && list.ValueKind == JsonValueKind.Array;
        }

        stream.Position = 0;
        return isCatalog ? new PriceImport(PriceCatalogReader.Read(stream), []) : LiteLlmPriceImporter.Read(stream, liteLlmEffectiveFrom);
    }
}
