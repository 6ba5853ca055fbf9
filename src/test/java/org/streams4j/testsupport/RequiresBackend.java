package org.streams4j.testsupport;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.Optional;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.streams4j.Backend;
import org.streams4j.Platform;

/**
 * The one way a test says which backend it needs: a class or method with
 * {@code @RequiresBackend(Backend.STREAMS)} runs only where
 * {@link Platform#backend()} is STREAMS (illumos, Solaris) and is skipped,
 * with the reason, elsewhere; {@code Backend.PORTABLE} likewise. That
 * illumos really gets the STREAMS backend (and every other system the
 * portable one) is checked by a test that runs everywhere
 * (BackendChoiceTest.theBackendIsStreamsExactlyOnSunOs), so that a
 * STREAMS host that fell back to sockets fails instead of skipping
 * every STREAMS test.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(RequiresBackend.Condition.class)
public @interface RequiresBackend {
    /** The backend the test needs. */
    Backend value();

    /** Evaluates {@link RequiresBackend} on a test class, and on a test method (JUnit asks for each). */
    final class Condition implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            Optional<RequiresBackend> on = context.getElement()
                .map(e -> e.getAnnotation(RequiresBackend.class));
            if (on.isEmpty()) {
                return ConditionEvaluationResult.enabled("no @RequiresBackend");
            }
            Backend live = Platform.backend();
            Backend wanted = on.get().value();
            return live == wanted
                ? ConditionEvaluationResult.enabled("the " + live + " backend is live")
                : ConditionEvaluationResult.disabled("needs the " + wanted + " backend; this is the " + live
                    + " backend (" + System.getProperty("os.name") + ")");
        }
    }
}
