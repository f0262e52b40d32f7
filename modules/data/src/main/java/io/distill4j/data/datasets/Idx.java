package io.distill4j.data.datasets;

import io.distill4j.data.BadInputException;
import io.distill4j.data.Errors;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * The IDX format of MNIST and Fashion-MNIST: magic {@code 0x00 0x00 TYPE DIMS}, DIMS big-endian int32
 * sizes, then the values. Only unsigned bytes (TYPE {@code 0x08}) occur in these datasets and are read;
 * files ending in {@code .gz} are decompressed on the fly.
 *
 * @param file the file read
 * @param dims the sizes, outermost first
 * @param data the values, row-major, as unsigned bytes in {@code byte}s
 */
public record Idx(Path file, int[] dims, byte[] data) {

    /**
     * Reads an IDX file of unsigned bytes.
     *
     * @param file the file ({@code .gz} allowed)
     * @return the array
     * @throws BadInputException naming the file if it is missing, of another type, or truncated
     */
    public static Idx read(Path file) {
        try (InputStream raw = Files.newInputStream(file);
                InputStream in = file.toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16)
                        : new BufferedInputStream(raw, 1 << 16)) {
            DataInputStream d = new DataInputStream(in);
            int magic = d.readInt();
            int type = (magic >> 8) & 0xFF;
            int n = magic & 0xFF;
            if ((magic >>> 16) != 0 || n == 0 || n > 4) {
                throw new BadInputException(file + ": not an IDX file (magic 0x" + Integer.toHexString(magic) + ")");
            }
            if (type != 0x08) {
                throw new BadInputException(file + ": field type: 0x" + Integer.toHexString(type)
                        + " is not unsigned byte (0x08)");
            }
            int[] dims = new int[n];
            long count = 1;
            for (int i = 0; i < n; i++) {
                dims[i] = d.readInt();
                if (dims[i] < 0) {
                    throw new BadInputException(file + ": field dimension " + i + ": negative size " + dims[i]);
                }
                count *= dims[i];
            }
            if (count > Integer.MAX_VALUE - 16) {
                throw new BadInputException(file + ": " + count + " values do not fit in one array");
            }
            byte[] data = new byte[(int) count];
            try {
                d.readFully(data);
            } catch (EOFException e) {
                throw new BadInputException(file + ": truncated: the header promises " + count + " values", e);
            }
            if (d.read() != -1) {
                throw new BadInputException(file + ": trailing bytes after the " + count + " values the header promises");
            }
            return new Idx(file, dims, data);
        } catch (NoSuchFileException e) {
            throw new BadInputException(file + ": dataset file not found", e);
        } catch (EOFException e) {
            throw new BadInputException(file + ": truncated header", e);
        } catch (IOException e) {
            throw new BadInputException(file + ": cannot read: " + Errors.reason(e), e);
        }
    }

    /**
     * @param i flat index
     * @return value i as an int in [0, 255]
     */
    public int get(int i) {
        return data[i] & 0xFF;
    }
}
