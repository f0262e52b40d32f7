package io.distill4j.data;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32;

/** The CRC-32 of one sequence row, shared by the writer and the reader. */
final class SequenceRows {
    private SequenceRows() {
    }

    /**
     * Computes the row checksum over the little-endian value bytes of prompt (int32), tokens and topk_ids
     * (uint16 or int32), topk_logprobs (uint8), logprob_top, logprob_scale and tail_logmass (float32), in that
     * order.
     */
    static long crc(int[] prompt, int[] tokens, int[] ids, byte[] q, float[] top, float[] scale, float[] tail,
            boolean uint16) {
        CRC32 c = new CRC32();
        int idBytes = uint16 ? 2 : 4;
        ByteBuffer b = ByteBuffer.allocate(4 * prompt.length + idBytes * (tokens.length + ids.length) + q.length
                + 4 * (top.length + scale.length + tail.length)).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : prompt) {
            b.putInt(v);
        }
        for (int[] arr : new int[][] {tokens, ids}) {
            for (int v : arr) {
                if (uint16) {
                    b.putShort((short) v);
                } else {
                    b.putInt(v);
                }
            }
        }
        b.put(q);
        for (float v : top) {
            b.putFloat(v);
        }
        for (float v : scale) {
            b.putFloat(v);
        }
        for (float v : tail) {
            b.putFloat(v);
        }
        c.update(b.array(), 0, b.position());
        return c.getValue();
    }
}
