using System.Numerics.Tensors;
using System.Text.Json;

namespace Tollgate.Optimization.SemanticCaching;

/// <summary>A vector as an OpenAI-style embeddings answer gives it (<c>data[i].embedding</c>), scaled to length one.</summary>
public static class UnitVector
{
    /// <summary>The unit vector of a JSON array of numbers; null when it is empty, holds anything but finite numbers, or is all zeros.</summary>
    public static float[]? Of(JsonElement embedding)
    {
        if (embedding.ValueKind != JsonValueKind.Array || embedding.GetArrayLength() == 0)
        {
            return null;
        }

        var vector = new float[embedding.GetArrayLength()];
        var i = 0;
        foreach (var value in embedding.EnumerateArray())
        {
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetSingle(out var component) || !float.IsFinite(component))
            {
                return null;
            }

            vector[i++] = component;
        }

        var norm = TensorPrimitives.Norm(vector);
        if (norm == 0 || !float.IsFinite(norm))
        {
            return null;
        }

        TensorPrimitives.Divide(vector, norm, vector);
        return vector;
    }
}
