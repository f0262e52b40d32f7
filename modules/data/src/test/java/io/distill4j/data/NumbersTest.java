package io.distill4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Locale;
import org.junit.jupiter.api.Test;

class NumbersTest {

    @Test
    void formatsWithADecimalPointWhateverTheDefaultLocale() {
        Locale before = Locale.getDefault();
        Locale.setDefault(Locale.GERMANY);
        try {
            assertEquals("4", Numbers.brief(4.0));
            assertEquals("0.7", Numbers.brief(0.7));
            assertEquals("0.3", Numbers.brief(0.3f));
            assertEquals("1.0", Numbers.plain(1.0));
            assertEquals("0.8731", Numbers.fixed(0.87314, 4));
            assertEquals("1.235e-04", Numbers.sci(0.00012345));
            assertEquals("-2", Numbers.brief(-2f));
        } finally {
            Locale.setDefault(before);
        }
    }
}
