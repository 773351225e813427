using System.Buffers;
using System.Globalization;
using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;

namespace Tollgate.Ledger.Journal;

/// <summary>
/// The crash-safe first home of every usage record: an append-only file of JSON lines, each written before the response
/// that produced it completes. A segment file is mapped into memory (shared with the kernel's page cache), so an append
/// is a copy into that mapping and no system call: the bytes are in the kernel the moment the copy ends, and survive a
/// killed process (not a power cut: the journal is not flushed to disk). The journal is split into segments; a segment
/// is deleted when it is closed and every record in it has been committed to the store, and whatever a dead process
/// left behind is replayed into the store on start-up (<see cref="JournalReplay"/>). Each open segment holds an
/// exclusive lock, so a second gateway on the same directory never replays a live one's records.
/// <para>
/// Concurrent appends only reserve their place in the segment under the lock and copy outside it, each at its own
/// offset: a busy gateway's requests do not queue behind one another. A record's closing newline is stored before the
/// rest of it, so a copy cut short by a kill can never join the record after it into one unreadable line; what a kill
/// leaves is zero bytes (a place reserved and never written, the unused end of a mapped segment) and at most a torn
/// line per append in flight, and replay skips both.
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
    private Segment? _spare;
    private long _nextNumber;
    private bool _preparing;
    private bool _closed;

    /// <summary>Opens a new segment after any left in <paramref name="directory"/> (those are for <see cref="JournalReplay"/>).</summary>
    public UsageJournal(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        _directory = Directory.CreateDirectory(directory).FullName;
        _nextNumber = Segments(_directory).Select(s => s.Number).DefaultIfEmpty(0).Max() + 1;
        _current = Open(SegmentBytes, zeroFill: true);
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
        var bytes = line.WrittenSpan;
        Segment segment;
        long offset;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            if (!_current.Fits(bytes.Length))
            {
                var full = _current;
                if (_spare is { } spare && spare.Fits(bytes.Length))
                {
                    _current = spare;
                    _spare = null;
                }
                else
                {
                    // No spare ready: a segment made here, its space allocated but not written ahead.
                    _current = Open(Math.Max(SegmentBytes, bytes.Length), zeroFill: false);
                }

                full.Retired = true;
                CloseIfDone(full);
            }

            segment = _current;
            offset = segment.Reserve(bytes.Length);
        }

        var written = false;
        try
        {
            segment.Write(offset, bytes);
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

    /// <summary>
    /// Makes the segment the journal moves to when the current one is full, ahead of time and off the request path (the
    /// ledger writer calls this between batches). Its pages are written once with zeros, so that copying records into
    /// it later costs no disk-block allocation per page — on ext4 that allocation is most of what a record's copy costs.
    /// </summary>
    public void PrepareSpare()
    {
        long number;
        lock (_gate)
        {
            if (_closed || _spare is not null || _preparing)
            {
                return;
            }

            _preparing = true;
            number = _nextNumber++;
        }

        Segment? spare = null;
        try
        {
            spare = Segment.Create(PathOf(number), number, SegmentBytes, zeroFill: true);
        }
        finally
        {
            lock (_gate)
            {
                _preparing = false;
                if (spare is not null && !_closed)
                {
                    _spare = spare;
                    _segments[number] = spare;
                    spare = null;
                }
            }

            // The journal closed while the spare was made: it holds no record.
            if (spare is not null)
            {
                spare.Close(keep: false);
                File.Delete(PathOf(number));
            }
        }
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
            if (_spare is { } spare)
            {
                spare.Retired = true;
                CloseIfDone(spare);
                _spare = null;
            }
        }
    }

    /// <summary>
    /// A retired segment's file is closed once no write is in flight, and deleted once the store holds all its records
    /// (until then it stays on disk for replay after a crash, cut to the length its records use). Called under the lock.
    /// </summary>
    private void CloseIfDone(Segment segment)
    {
        if (!segment.Closed)
        {
            if (!segment.Retired || segment.Writers > 0)
            {
                return;
            }

            segment.Close(keep: segment.Outstanding > 0);
        }

        if (segment.Outstanding == 0 && _segments.Remove(segment.Number))
        {
            File.Delete(PathOf(segment.Number));
        }
    }

    /// <summary>Makes the next segment in place (called under the lock).</summary>
    private Segment Open(long capacity, bool zeroFill)
    {
        var number = _nextNumber++;
        var segment = Segment.Create(PathOf(number), number, capacity, zeroFill);
        _segments[number] = segment;
        return segment;
    }

    private string PathOf(long segment) => Path.Combine(_directory, segment.ToString("D12", CultureInfo.InvariantCulture) + Extension);

    /// <summary>
    /// One segment file, mapped into memory at its full capacity: how far it is reserved, writes in flight, and records
    /// not yet committed to the store. Its disk space is allocated (or written) when it is created, so that a full disk
    /// is an error then, not a fault when a page of the mapping is first written.
    /// </summary>
    private sealed unsafe class Segment
    {
        private readonly SafeFileHandle _file;
        private readonly MemoryMappedFile _map;
        private readonly MemoryMappedViewAccessor _view;
        private readonly byte* _start;
        private readonly long _capacity;

        private Segment(long number, SafeFileHandle file, MemoryMappedFile map, MemoryMappedViewAccessor view, long capacity)
        {
            Number = number;
            _file = file;
            _map = map;
            _view = view;
            _capacity = capacity;
            byte* start = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
            _start = start + view.PointerOffset;
        }

        public long Number { get; }

        public long Length { get; private set; }

        public int Writers { get; set; }

        public int Outstanding { get; set; }

        /// <summary>No longer the segment new records go to.</summary>
        public bool Retired { get; set; }

        public bool Closed { get; private set; }

        /// <summary>Creates and maps a segment file; with <paramref name="zeroFill"/> its whole length is written with zeros first (slow, done ahead of need), otherwise only its space is allocated.</summary>
        public static Segment Create(string path, long number, long capacity, bool zeroFill)
        {
            var file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, FileOptions.None, preallocationSize: zeroFill ? 0 : capacity);
            MemoryMappedFile? map = null;
            try
            {
                if (zeroFill)
                {
                    var zeros = new byte[(int)Math.Min(capacity, 1 << 20)];
                    for (long at = 0; at < capacity; at += zeros.Length)
                    {
                        RandomAccess.Write(file, zeros.AsSpan(0, (int)Math.Min(zeros.Length, capacity - at)), at);
                    }
                }

                map = MemoryMappedFile.CreateFromFile(file, null, capacity, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
                return new Segment(number, file, map, map.CreateViewAccessor(0, capacity, MemoryMappedFileAccess.ReadWrite), capacity);
            }
            catch
            {
                map?.Dispose();
                file.Dispose();
                File.Delete(path);
                throw;
            }
        }

        public bool Fits(int bytes) => Length + bytes <= _capacity;

        /// <summary>Takes the next <paramref name="bytes"/> of the file for one record; returns where they start.</summary>
        public long Reserve(int bytes)
        {
            var offset = Length;
            Length += bytes;
            Writers++;
            Outstanding++;
            return offset;
        }

        /// <summary>Copies a line (ending in a newline) to its reserved place, the newline first.</summary>
        public void Write(long offset, ReadOnlySpan<byte> line)
        {
            var target = new Span<byte>(_start + offset, line.Length);
            target[^1] = line[^1];
            line[..^1].CopyTo(target);
        }

        /// <summary>Unmaps and closes the file; one kept for replay is cut to the bytes its records use.</summary>
        public void Close(bool keep)
        {
            Closed = true;
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _map.Dispose();
            if (keep)
            {
                RandomAccess.SetLength(_file, Length);
            }

            _file.Dispose();
        }
    }
}
