<?php
// Stand-in for WordPress core: enough for the example to run.
header( 'Content-Type: text/html; charset=UTF-8' );
echo '<h1>Example Blog</h1><p>upload_max_filesize=', ini_get( 'upload_max_filesize' ), '</p>';
