package io.distill4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/** The C2 exclusion of an HTTP sampling run is in force inside its scope and gone after it (HotSpot). */
class IoBoundCompilationTest {

    private static String directives() throws Exception {
        return String.valueOf(ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerDirectivesPrint",
                new Object[] {new String[0]}, new String[] {String[].class.getName()}));
    }

    @Test
    void theDirectiveHoldsInsideTheScopeOnly() throws Exception {
        String before = directives();
        assertFalse(before.contains("Exclude:true"), before);
        try (IoBoundCompilation c1 = IoBoundCompilation.begin()) {
            assertTrue(c1.active());
            String inside = directives();
            // the added directive comes first: every method, C2 excluded (C1 keeps the default settings)
            String added = inside.substring(0, inside.indexOf("Directive: (default)"));
            assertTrue(added.contains("matching: *.*"), inside);
            String c2 = added.substring(added.indexOf("c2 directives"));
            assertTrue(c2.contains("Exclude:true"), inside);
            assertFalse(added.substring(0, added.indexOf("c2 directives")).contains("Exclude:true"), inside);
        }
        String after = directives();
        assertEquals(before, after);
    }
}
