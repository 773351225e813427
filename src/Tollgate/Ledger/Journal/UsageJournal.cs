using System.Buffers;
using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace Tollgate.Ledger.Journal;

/// <summary>
/// The crash-safe first home of every usage record: an append-only file of JSON lines, written with one system call
/// per record before the response that produced it completes. Once a record is in the kernel it survives a killed
/// process (not a power cut: the journal does not fsync). The journal is split into segments; a segment is deleted
/// when it is closed and every record in it has been committed to the store, and whatever a dead process left behind
/// is replayed into the store on start-up (<see cref="JournalReplay"/>). Each open segment holds an exclusive lock, so a
/// second gateway on the same directory never replays a live one's records.
/// </summary>
public sealed class UsageJournal : IDisposable
{
    public const string Extension = ".journal";
    private const long SegmentBytes = 8 * 1024 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_line;

    private readonly Lock _gate = new();
    private readonly Dictionary<long, int> _outstanding = [];
    private readonly string _directory;
    private SafeFileHandle _file;
    private long _segment;
    private long _offset;
    private bool _closed;

    /// <summary>Opens a new segment after any left in <paramref name="directory"/> (those are for <see cref="JournalReplay"/>).</summary>
    public UsageJournal(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        _directory = Directory.CreateDirectory(directory).FullName;
        _segment = Segments(_directory).Select(s => s.Number).DefaultIfEmpty(0).Max() + 1;
        _file = Open(_segment);
    }

    /// <summary>The journal's directory.</summary>
    public string Location => _directory;

    /// <summary>The segment files in <paramref name="directory"/>, oldest first.</summary>
    public static IReadOnlyList<(long Number, string Path)> Segments(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return [];
        }

        return [.. Directory.EnumerateFiles(directory, "*" + Extension)
            .Select(path => (Ok: long.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out var number), Number: number, Path: path))
            .Where(s => s.Ok)
            .Select(s => (s.Number, s.Path))
            .OrderBy(s => s.Number)];
    }

    /// <summary>Writes the record to the journal and returns its segment, to hand back to <see cref="Committed"/>.</summary>
    public long Append(UsageRecord record)
    {
        var line = t_line ??= new ArrayBufferWriter<byte>(1024);
        line.ResetWrittenCount();
        JournalCodec.Write(record, line);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            RandomAccess.Write(_file, line.WrittenSpan, _offset);
            _offset += line.WrittenCount;
            var segment = _segment;
            _outstanding[segment] = _outstanding.GetValueOrDefault(segment) + 1;
            if (_offset >= SegmentBytes)
            {
                Rotate();
            }

            return segment;
        }
    }

    /// <summary>The store has committed records from these segments (one entry per record).</summary>
    public void Committed(IEnumerable<long> segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        lock (_gate)
        {
            foreach (var segment in segments)
            {
                var left = _outstanding[segment] - 1;
                _outstanding[segment] = left;
                if (left == 0 && segment != _segment)
                {
                    _outstanding.Remove(segment);
                    File.Delete(PathOf(segment));
                }
            }
        }
    }

    /// <summary>Closes the journal; the last segment is deleted when the store holds all of its records.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            _file.Dispose();
            if (_outstanding.GetValueOrDefault(_segment) == 0)
            {
                File.Delete(PathOf(_segment));
            }
        }
    }

    private void Rotate()
    {
        _file.Dispose();
        var full = _segment;
        _segment++;
        _offset = 0;
        _file = Open(_segment);
        if (_outstanding.GetValueOrDefault(full) == 0)
        {
            _outstanding.Remove(full);
            File.Delete(PathOf(full));
        }
    }

    private SafeFileHandle Open(long segment) =>
        File.OpenHandle(PathOf(segment), FileMode.CreateNew, FileAccess.Write, FileShare.Read);

    private string PathOf(long segment) => Path.Combine(_directory, segment.ToString("D12", CultureInfo.InvariantCulture) + Extension);
}
