package io.distill4j.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.flatbuf.Message;
import org.apache.arrow.flatbuf.MessageHeader;
import org.apache.arrow.flatbuf.RecordBatch;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ReadChannel;
import org.apache.arrow.vector.ipc.message.ArrowBlock;
import org.apache.arrow.vector.ipc.message.MessageMetadataResult;
import org.apache.arrow.vector.ipc.message.MessageSerializer;

/**
 * One memory-mapped classification or regression shard, read without copying.
 *
 * <p>Opening parses the Arrow file's footer and record-batch metadata (not its data) and checks the schema;
 * the values of a row are then a slice of the mapping. Buffer order of the dense schema: item (validity,
 * data), samples (validity), sample (validity), value (validity, data), crc32 (validity, data).
 */
final class DenseShard {
    private static final int ITEM_DATA = 1;
    private static final int VALUE_DATA = 5;
    private static final int CRC_DATA = 7;
    private static final int BUFFERS = 8;

    private final Path file;
    private final long firstItem;
    private final int rowBytes;
    private final long[] batchFirstRow;
    private final ByteBuffer[] itemBuf;
    private final ByteBuffer[] valueBuf;
    private final ByteBuffer[] crcBuf;
    private final long[] valueOffset;
    private final long rows;
    /** For positional reads ({@link #read}); opened on first use, closed by the JDK's cleaner with this shard. */
    private volatile FileChannel channel;

    private DenseShard(Path file, long firstItem, int rowBytes, List<long[]> batches, MappedByteBuffer map) {
        this.file = file;
        this.firstItem = firstItem;
        this.rowBytes = rowBytes;
        int n = batches.size();
        batchFirstRow = new long[n + 1];
        itemBuf = new ByteBuffer[n];
        valueBuf = new ByteBuffer[n];
        crcBuf = new ByteBuffer[n];
        valueOffset = new long[n];
        long r = 0;
        for (int b = 0; b < n; b++) {
            long[] d = batches.get(b); // rows, body, then offset/length pairs
            batchFirstRow[b] = r;
            itemBuf[b] = slice(map, d[1] + d[2 + 2 * ITEM_DATA], d[2 + 2 * ITEM_DATA + 1]);
            valueBuf[b] = slice(map, d[1] + d[2 + 2 * VALUE_DATA], d[2 + 2 * VALUE_DATA + 1]);
            valueOffset[b] = d[1] + d[2 + 2 * VALUE_DATA];
            crcBuf[b] = slice(map, d[1] + d[2 + 2 * CRC_DATA], d[2 + 2 * CRC_DATA + 1]);
            r += d[0];
        }
        batchFirstRow[n] = r;
        rows = r;
    }

    private static ByteBuffer slice(MappedByteBuffer map, long off, long len) {
        if (off < 0 || len < 0 || off + len > map.capacity()) {
            throw new IndexOutOfBoundsException("buffer [" + off + ", " + (off + len) + ") outside the file's "
                    + map.capacity() + " bytes");
        }
        return map.slice((int) off, (int) len).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Maps and parses a shard.
     *
     * @param file the shard
     * @param firstItem the item index of its first row
     * @param k samples per item
     * @param width outputs per sample
     * @return the shard
     * @throws BadInputException naming the file if it is missing, truncated or of another schema
     */
    static DenseShard open(Path file, long firstItem, int k, int width) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
                BufferAllocator alloc = new RootAllocator();
                ArrowFileReader r = new ArrowFileReader(ch, alloc)) {
            var schema = r.getVectorSchemaRoot().getSchema();
            if (!schema.equals(CacheSchema.dense(k, width))) {
                throw new BadInputException(file + ": schema " + schema + " does not match the manifest's k=" + k
                        + ", width=" + width);
            }
            List<long[]> batches = new ArrayList<>();
            for (ArrowBlock block : r.getRecordBlocks()) {
                ch.position(block.getOffset());
                MessageMetadataResult res = MessageSerializer.readMessage(new ReadChannel(ch));
                if (res == null) {
                    throw new BadInputException(file + ": record batch at byte " + block.getOffset() + " is missing");
                }
                Message msg = res.getMessage();
                if (msg.headerType() != MessageHeader.RecordBatch) {
                    throw new BadInputException(file + ": block at byte " + block.getOffset() + " is not a record batch");
                }
                RecordBatch rb = (RecordBatch) msg.header(new RecordBatch());
                if (rb.compression() != null) {
                    throw new BadInputException(file + ": compressed dense shards are not part of format v1");
                }
                if (rb.buffersLength() != BUFFERS) {
                    throw new BadInputException(file + ": record batch has " + rb.buffersLength() + " buffers, expected "
                            + BUFFERS);
                }
                long[] d = new long[2 + 2 * BUFFERS];
                d[0] = rb.length();
                d[1] = block.getOffset() + block.getMetadataLength();
                for (int i = 0; i < BUFFERS; i++) {
                    d[2 + 2 * i] = rb.buffers(i).offset();
                    d[3 + 2 * i] = rb.buffers(i).length();
                }
                long rowBytes = (long) k * width * 4;
                if (d[3 + 2 * VALUE_DATA] < d[0] * rowBytes || d[3 + 2 * ITEM_DATA] < d[0] * 8
                        || d[3 + 2 * CRC_DATA] < d[0] * 4) {
                    throw new BadInputException(file + ": record batch at byte " + block.getOffset()
                            + " holds fewer values than its " + d[0] + " rows need");
                }
                batches.add(d);
            }
            if (ch.size() > Integer.MAX_VALUE) {
                throw new BadInputException(file + ": shard larger than 2 GiB");
            }
            MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
            return new DenseShard(file, firstItem, k * width * 4, batches, map);
        } catch (NoSuchFileException e) {
            throw new BadInputException(file + ": shard listed in the manifest is missing", e);
        } catch (BadInputException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new BadInputException(file + ": corrupt or truncated shard: " + Errors.reason(e), e);
        }
    }

    Path file() {
        return file;
    }

    long rows() {
        return rows;
    }

    private int batchOf(long row) {
        int b = java.util.Arrays.binarySearch(batchFirstRow, row);
        return b >= 0 ? (b == batchFirstRow.length - 1 ? b - 1 : b) : -b - 2;
    }

    /**
     * The values of a run of rows inside one record batch, as a little-endian slice of the mapping.
     *
     * @param row first row within the shard
     * @param count how many rows (must not cross a batch boundary; see {@link #rowsLeftInBatch})
     * @return the slice, {@code count * k * width * 4} bytes
     */
    ByteBuffer values(long row, int count) {
        int b = batchOf(row);
        int off = (int) ((row - batchFirstRow[b]) * rowBytes);
        return valueBuf[b].slice(off, count * rowBytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Reads part of a row's values with a positional read of the file rather than through the mapping, so that the
     * pages read are not counted in the process's resident memory (the kernel's page cache keeps them).
     *
     * @param row the row within the shard
     * @param offset the first byte within the row's {@code k * width * 4}
     * @param bytes how many bytes
     * @param dst where they go, from its position (advanced by {@code bytes})
     * @throws java.io.UncheckedIOException if the read fails or the file ends early
     */
    void read(long row, int offset, int bytes, ByteBuffer dst) {
        int b = batchOf(row);
        long pos = valueOffset[b] + (row - batchFirstRow[b]) * rowBytes + offset;
        ByteBuffer d = dst.duplicate();
        d.limit(d.position() + bytes);
        try {
            FileChannel ch = channel();
            while (d.hasRemaining()) {
                int n = ch.read(d, pos);
                if (n < 0) {
                    throw new IOException("end of file at byte " + pos);
                }
                pos += n;
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(file + ": cannot read row " + row + ": " + Errors.reason(e), e);
        }
        dst.position(dst.position() + bytes);
    }

    private FileChannel channel() throws IOException {
        FileChannel ch = channel;
        if (ch == null) {
            synchronized (this) {
                ch = channel;
                if (ch == null) {
                    ch = FileChannel.open(file, StandardOpenOption.READ);
                    channel = ch;
                }
            }
        }
        return ch;
    }

    /** @return how many rows from {@code row} on are in the same record batch */
    long rowsLeftInBatch(long row) {
        int b = batchOf(row);
        return batchFirstRow[b + 1] - row;
    }

    /** @return the stored item index of a row */
    long item(long row) {
        int b = batchOf(row);
        return itemBuf[b].getLong((int) ((row - batchFirstRow[b]) * 8));
    }

    /** @return the stored CRC-32 of a row, as an unsigned value */
    long crc(long row) {
        int b = batchOf(row);
        return Integer.toUnsignedLong(crcBuf[b].getInt((int) ((row - batchFirstRow[b]) * 4)));
    }

    /**
     * Checks a row's item index and CRC-32.
     *
     * @param row the row within the shard
     * @return null if it is sound, else a description of the fault naming the field
     */
    String checkRow(long row) {
        long want = firstItem + row;
        long item = item(row);
        if (item != want) {
            return "field item: expected " + want + ", got " + item;
        }
        java.util.zip.CRC32 c = new java.util.zip.CRC32();
        c.update(values(row, 1));
        if (c.getValue() != crc(row)) {
            return String.format("field samples: CRC-32 %08x differs from the stored %08x", c.getValue(), crc(row));
        }
        return null;
    }
}
