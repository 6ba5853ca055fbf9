/** A program that uses streams4j as a library user would: it requires the module, nothing else. */
module consumer {
    requires org.streams4j;
}
