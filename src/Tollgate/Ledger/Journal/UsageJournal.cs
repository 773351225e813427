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
/// <para>
/// Concurrent appends only reserve their place in the segment under the lock and write outside it, each at its own
/// offset: a busy gateway's requests do not queue (or spin) behind one another's system calls. A process killed
/// between two such writes can leave a gap of zero bytes before a later record; replay skips it.
/// </para>
/// </summary>
public sealed class UsageJournal : IDisposable
{
    public const string Extension = ".journal";
    private const long SegmentBytes = 8 * 1024 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_line;

    private readonly Lock _gate = new();
    private readonly Dictionary<long, Segment> _segments = [];
    private readonly string _directory;
    private Segment _current;
    private bool _closed;

    /// <summary>Opens a new segment after any left in <paramref name="directory"/> (those are for <see cref="JournalReplay"/>).</summary>
    public UsageJournal(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        _directory = Directory.CreateDirectory(directory).FullName;
        _current = Open(Segments(_directory).Select(s => s.Number).DefaultIfEmpty(0).Max() + 1);
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
        Segment segment;
        long offset;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            segment = _current;
            offset = segment.Reserve(line.WrittenCount);
            if (segment.Length >= SegmentBytes)
            {
                _current = Open(segment.Number + 1);
                segment.Retired = true;
            }
        }

        var written = false;
        try
        {
            RandomAccess.Write(segment.File, line.WrittenSpan, offset);
            written = true;
        }
        finally
        {
            lock (_gate)
            {
                segment.Writers--;
                if (!written)
                {
                    // Not journaled (the caller sees the exception): nothing of it will be committed.
                    segment.Outstanding--;
                }

                CloseIfDone(segment);
            }
        }

        return segment.Number;
    }

    /// <summary>The store has committed records from these segments (one entry per record).</summary>
    public void Committed(IEnumerable<long> segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        lock (_gate)
        {
            foreach (var number in segments)
            {
                var segment = _segments[number];
                segment.Outstanding--;
                CloseIfDone(segment);
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
            _current.Retired = true;
            CloseIfDone(_current);
        }
    }

    /// <summary>
    /// A retired segment's file is closed once no write is in flight, and deleted once the store holds all its records
    /// (until then it stays on disk for replay after a crash). Called under the lock.
    /// </summary>
    private void CloseIfDone(Segment segment)
    {
        if (!segment.Retired || segment.Writers > 0)
        {
            return;
        }

        segment.File.Dispose();
        if (segment.Outstanding == 0)
        {
            _segments.Remove(segment.Number);
            File.Delete(PathOf(segment.Number));
        }
    }

    private Segment Open(long number)
    {
        var segment = new Segment(number, File.OpenHandle(PathOf(number), FileMode.CreateNew, FileAccess.Write, FileShare.Read));
        _segments[number] = segment;
        return segment;
    }

    private string PathOf(long segment) => Path.Combine(_directory, segment.ToString("D12", CultureInfo.InvariantCulture) + Extension);

    /// <summary>One segment file: how far it is reserved, writes in flight, and records not yet committed to the store.</summary>
    private sealed class Segment(long number, SafeFileHandle file)
    {
        public long Number { get; } = number;

        public SafeFileHandle File { get; } = file;

        public long Length { get; private set; }

        public int Writers { get; set; }

        public int Outstanding { get; set; }

        /// <summary>No longer the segment new records go to.</summary>
        public bool Retired { get; set; }

        /// <summary>Takes the next <paramref name="bytes"/> of the file for one record; returns where they start.</summary>
        public long Reserve(int bytes)
        {
            var offset = Length;
            Length += bytes;
            Writers++;
            Outstanding++;
            return offset;
        }
    }
}
