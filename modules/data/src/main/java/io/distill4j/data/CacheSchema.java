package io.distill4j.data;

import java.util.List;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * The Arrow schemas of cache shards (format v1); {@code modules/data/docs/cache-format.md} documents them.
 *
 * <p>Classification and regression: one row per item, {@code item: int64},
 * {@code samples: fixed_size_list<fixed_size_list<float32, width>, k>} (so {@code samples[i][j][c]} is
 * sample j's value for class or output c) and {@code crc32: uint32}, the CRC-32 (zlib's) of the row's
 * {@code k * width} float32 values as little-endian bytes.
 *
 * <p>Sequence: one row per (item, sample) in item-major order: {@code item: int64}, {@code sample: int32},
 * {@code prompt: list<int32>}, {@code tokens: list<ID>} (the sampled response, T tokens),
 * {@code topk_ids: list<fixed_size_list<ID, K>>} and {@code topk_logprobs: list<fixed_size_list<uint8, K>>}
 * (T positions, ranks in descending log-probability order), {@code logprob_top: list<float32>},
 * {@code logprob_scale: list<float32>} and {@code tail_logmass: list<float32>} (T each; see
 * {@link LogprobQuantizer}), and {@code crc32: uint32} over the row's prompt, tokens, topk_ids,
 * topk_logprobs, logprob_top, logprob_scale and tail_logmass value bytes in that order. ID is {@code uint16}
 * or {@code int32} as the manifest says.
 */
public final class CacheSchema {
    /** Name of the item-index column. */
    public static final String ITEM = "item";
    /** Name of the samples column. */
    public static final String SAMPLES = "samples";
    /** Name of the per-row CRC-32 column. */
    public static final String CRC32 = "crc32";
    /** Name of the sample-index column of sequence shards. */
    public static final String SAMPLE = "sample";
    /** Name of the prompt column of sequence shards. */
    public static final String PROMPT = "prompt";
    /** Name of the sampled-tokens column of sequence shards. */
    public static final String TOKENS = "tokens";
    /** Name of the top-K ids column of sequence shards. */
    public static final String TOPK_IDS = "topk_ids";
    /** Name of the quantised top-K log-probabilities column of sequence shards. */
    public static final String TOPK_LOGPROBS = "topk_logprobs";
    /** Name of the per-position top log-probability column of sequence shards. */
    public static final String LOGPROB_TOP = "logprob_top";
    /** Name of the per-position quantisation spread column of sequence shards. */
    public static final String LOGPROB_SCALE = "logprob_scale";
    /** Name of the per-position tail log-mass column of sequence shards. */
    public static final String TAIL_LOGMASS = "tail_logmass";

    private CacheSchema() {
    }

    /**
     * Builds the schema of a classification or regression shard.
     *
     * @param k samples per item
     * @param width classes or outputs per sample
     * @return the Arrow schema
     */
    public static Schema dense(int k, int width) {
        Field value = new Field("value", FieldType.notNullable(new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)), null);
        Field perSample = new Field("sample", FieldType.notNullable(new ArrowType.FixedSizeList(width)), List.of(value));
        Field samples = new Field(SAMPLES, FieldType.notNullable(new ArrowType.FixedSizeList(k)), List.of(perSample));
        Field item = new Field(ITEM, FieldType.notNullable(new ArrowType.Int(64, true)), null);
        Field crc = new Field(CRC32, FieldType.notNullable(new ArrowType.Int(32, false)), null);
        return new Schema(List.of(item, samples, crc));
    }

    /**
     * Builds the schema of a sequence shard.
     *
     * @param topK the number K of top tokens per position
     * @param idType {@code uint16} or {@code int32}
     * @return the Arrow schema
     */
    public static Schema sequence(int topK, String idType) {
        ArrowType id = switch (idType) {
            case "uint16" -> new ArrowType.Int(16, false);
            case "int32" -> new ArrowType.Int(32, true);
            default -> throw new IllegalArgumentException("idType must be uint16 or int32, got " + idType);
        };
        ArrowType f32 = new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE);
        return new Schema(List.of(
                leaf(ITEM, new ArrowType.Int(64, true)),
                leaf(SAMPLE, new ArrowType.Int(32, true)),
                list(PROMPT, leaf("id", new ArrowType.Int(32, true))),
                list(TOKENS, leaf("id", id)),
                list(TOPK_IDS, fixed("ranks", topK, leaf("id", id))),
                list(TOPK_LOGPROBS, fixed("ranks", topK, leaf("q", new ArrowType.Int(8, false)))),
                list(LOGPROB_TOP, leaf("top", f32)),
                list(LOGPROB_SCALE, leaf("spread", f32)),
                list(TAIL_LOGMASS, leaf("logmass", f32)),
                leaf(CRC32, new ArrowType.Int(32, false))));
    }

    private static Field leaf(String name, ArrowType type) {
        return new Field(name, FieldType.notNullable(type), null);
    }

    private static Field list(String name, Field child) {
        return new Field(name, FieldType.notNullable(new ArrowType.List()), List.of(child));
    }

    private static Field fixed(String name, int size, Field child) {
        return new Field(name, FieldType.notNullable(new ArrowType.FixedSizeList(size)), List.of(child));
    }
}
