package io.distill4j.data.interop;

import io.distill4j.data.BadInputException;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The NumPy {@code .npy} format (version 1.0/2.0 headers): the header of a C-order array, read and written.
 */
final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {
    }

    /**
     * A parsed header.
     *
     * @param descr the dtype, e.g. {@code <f4}
     * @param shape the shape
     */
    record Header(String descr, long[] shape) {
        long count() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }

        int itemSize() {
            return Integer.parseInt(descr.substring(2));
        }
    }

    static void writeHeader(OutputStream out, String descr, long[] shape) throws IOException {
        StringBuilder s = new StringBuilder();
        for (long d : shape) {
            s.append(d).append(", ");
        }
        String shapeText = shape.length == 1 ? shape[0] + "," : s.substring(0, s.length() - 2);
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + shapeText + "), }";
        int total = MAGIC.length + 2 + 2 + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        out.write(MAGIC);
        out.write(new byte[] {1, 0});
        byte[] h = header.getBytes(StandardCharsets.US_ASCII);
        out.write(new byte[] {(byte) (h.length & 0xFF), (byte) (h.length >> 8)});
        out.write(h);
    }

    static Header readHeader(InputStream in, String where) throws IOException {
        DataInputStream d = new DataInputStream(in);
        byte[] magic = new byte[6];
        d.readFully(magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new BadInputException(where + ": not a .npy array (bad magic)");
        }
        int major = d.readUnsignedByte();
        d.readUnsignedByte();
        long len;
        if (major == 1) {
            len = d.readUnsignedByte() | (d.readUnsignedByte() << 8);
        } else {
            byte[] b = new byte[4];
            d.readFully(b);
            len = Integer.toUnsignedLong(ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt());
        }
        if (len > 1 << 20) {
            throw new BadInputException(where + ": .npy header of " + len + " bytes is implausible");
        }
        byte[] h = new byte[(int) len];
        d.readFully(h);
        String text = new String(h, StandardCharsets.US_ASCII);
        Matcher m = DESCR.matcher(text);
        Matcher f = FORTRAN.matcher(text);
        Matcher s = SHAPE.matcher(text);
        if (!m.find() || !f.find() || !s.find()) {
            throw new BadInputException(where + ": malformed .npy header '" + text.trim() + "'");
        }
        if (f.group(1).equals("True")) {
            throw new BadInputException(where + ": field fortran_order: True is not supported (save a C-order array)");
        }
        String descr = m.group(1);
        if (!descr.matches("[<|][fiu][1248]")) {
            throw new BadInputException(where + ": field descr: unsupported dtype '" + descr
                    + "' (little-endian float or int expected)");
        }
        String[] parts = s.group(1).split(",");
        long[] shape = Arrays.stream(parts).map(String::trim).filter(p -> !p.isEmpty()).mapToLong(Long::parseLong).toArray();
        return new Header(descr, shape);
    }

    /** Reads {@code n} values of a float dtype as floats. */
    static void readFloats(DataInputStream in, Header h, float[] dst, int off, int n, byte[] scratch) throws IOException {
        int size = h.itemSize();
        in.readFully(scratch, 0, n * size);
        ByteBuffer b = ByteBuffer.wrap(scratch, 0, n * size).order(ByteOrder.LITTLE_ENDIAN);
        switch (h.descr().substring(1)) {
            case "f4" -> b.asFloatBuffer().get(dst, off, n);
            case "f8" -> {
                for (int i = 0; i < n; i++) {
                    dst[off + i] = (float) b.getDouble();
                }
            }
            case "f2" -> {
                for (int i = 0; i < n; i++) {
                    dst[off + i] = Half.float16ToFloatCompat(b.getShort());
                }
            }
            default -> throw new BadInputException(String.format(Locale.ROOT, "dtype %s is not a float type", h.descr()));
        }
    }

    /** Java 17 lacks Float.float16ToFloat: a small IEEE half-precision decoder. */
    static final class Half {
        private Half() {
        }

        static float float16ToFloatCompat(short bits) {
            int h = bits & 0xFFFF;
            int sign = (h >>> 15) << 31;
            int exp = (h >>> 10) & 0x1F;
            int mant = h & 0x3FF;
            if (exp == 0) {
                return (sign == 0 ? 1 : -1) * mant * 0x1p-24f;
            }
            if (exp == 31) {
                return java.lang.Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
            }
            return java.lang.Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
        }
    }
}
