package io.distill4j.data;

import java.util.List;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * The Arrow schema of a classification or regression shard (format v1).
 *
 * <p>One row per item: {@code item: int64} and {@code samples: fixed_size_list<fixed_size_list<float32, width>, k>},
 * so {@code samples[i][j][c]} is sample j's value for class (or output) c of the row's item.
 */
public final class CacheSchema {
    /** Name of the item-index column. */
    public static final String ITEM = "item";
    /** Name of the samples column. */
    public static final String SAMPLES = "samples";

    private CacheSchema() {
    }

    /**
     * Builds the schema.
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
        return new Schema(List.of(item, samples));
    }
}
